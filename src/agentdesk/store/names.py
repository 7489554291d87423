"""What the search index stores for a name: single characters and pinyin keys.

SQLite 3.40's FTS5 ``trigram`` tokenizer finds nothing for 1–2 CJK characters (the commonest
Chinese name searches), so names are indexed one character per token: ``张三丰`` becomes
``"张 三 丰"`` and a query is a phrase of single characters. A second
column holds the name's leading runs (``"张 张三 张三丰"``) so "starts with" is one token.

Pinyin keys let a Latin keyboard find the same name: every joined suffix of the full pinyin
(``zhangsanfeng sanfeng feng``), the initials (``zsf``), and the other readings of polyphonic
characters (``曾`` zeng/ceng, ``单`` shan/dan) so a surname's special reading also matches. The
reading table comes from ``pypinyin`` and is loaded on first use (under 0.1 s), off the UI path.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
from pathlib import Path

__all__ = ["cjk_chars", "is_cjk", "name_chars", "name_head", "name_keys", "name_pinyin"]

# CJK ideographs: basic block, extension A, compatibility (inclusive code point ranges).
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF))


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` is a CJK ideograph (one of :data:`_CJK_RANGES`)."""
    code = ord(ch)
    return any(low <= code <= high for low, high in _CJK_RANGES)


_CJK_CLASS = "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES) + "]"
cjk_chars = re.compile(_CJK_CLASS).findall
"""The CJK ideographs of a text, in order, found in one C pass (a first sync keys 100 k names or
more; the search keys its query the same way, so both sides agree on the characters)."""


def name_chars(name: str) -> str:
    """The CJK characters of ``name`` separated by spaces (the FTS ``name_chars`` column)."""
    return " ".join(cjk_chars(name))


def name_head(name: str) -> str:
    """Every leading run of the name's CJK characters as one token: ``张 张三 张三丰``.

    "Names that START with the query" is then a single-token lookup (``name_head : "张三"``),
    far cheaper than FTS5's initial-token ``^`` phrase query on common characters.
    """
    return _heads("".join(cjk_chars(name)))


def _heads(joined: str) -> str:
    """The prefixes of ``joined`` (a name's CJK characters), space-separated."""
    return " ".join([joined[: i + 1] for i in range(len(joined))])


@functools.cache
def _table() -> dict[int, str]:
    """``pypinyin``'s reading table (code point -> readings), loaded once.

    Only its module ``pinyin_dict`` is run, from its file: importing it the usual way first runs
    the package's ``__init__``, which also loads a phrase dictionary and trains a segmenter
    (about 1 s of CPU on the first sync's path, none of it used here).
    """
    spec = importlib.util.find_spec("pypinyin")
    folders = spec.submodule_search_locations if spec is not None else None
    module_spec = None
    path = Path(next(iter(folders))) / "pinyin_dict.py" if folders else None
    if path is not None and path.is_file():  # a frozen build may keep only its bytecode
        module_spec = importlib.util.spec_from_file_location("_agentdesk_pinyin_dict", path)
    if module_spec is None or module_spec.loader is None:  # not a plain file: import it
        from pypinyin.pinyin_dict import pinyin_dict

        return pinyin_dict  # type: ignore[no-any-return]
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.pinyin_dict  # type: ignore[no-any-return]


def _plain(syllable: str) -> tuple[str, ...]:
    """Toneless spellings of one syllable: ``lǚ`` gives ``lv`` (IME) and ``lu``."""
    text = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    plain = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return (plain, plain.replace("v", "u")) if "v" in plain else (plain,)


@functools.cache
def readings(ch: str) -> tuple[str, ...]:
    """Toneless readings of one character, commonest first (empty when unknown)."""
    raw = _table().get(ord(ch))
    if not raw:
        return ()
    out: list[str] = []
    for syllable in raw.split(","):
        for plain in _plain(syllable):
            if plain and plain not in out:
                out.append(plain)
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def name_pinyin(name: str) -> str:
    """Space-separated pinyin keys of ``name`` (the FTS ``name_pinyin`` column).

    Latin words in the name are kept, lower-cased, as keys too.
    """
    if name.isascii():
        return " ".join("".join(c if c.isalnum() else " " for c in name).lower().split())
    chars = cjk_chars(name)
    if len(chars) == len(name):  # only CJK characters (nearly every name): no Latin words
        keys = _cjk_keys(name)
        if keys is not None:
            return keys
    return _mixed_pinyin(name, chars)


def _cjk_keys(name: str) -> str | None:
    """:func:`name_pinyin` of a name of CJK characters only, when each has a reading.

    The same keys in the same order as :func:`_mixed_pinyin`, in fewer steps (a first sync keys
    every new name it sees, docs/sync.md "Name keys"): names of two and three characters (nearly
    all) have their keys spelled out, the readings come from one dict, and no key needs the
    ASCII filter. ``None`` when a character has no reading: the caller takes the general way.
    """
    table = _ASCII_READINGS
    n = len(name)
    if n == 3:
        a, b, c = table[name[0]], table[name[1]], table[name[2]]
        if a is None or b is None or c is None:
            return None
        rest, rest_initials = b[0] + c[0], b[0][0] + c[0][0]
        keys = [a[0] + rest, rest, c[0], a[0][0] + rest_initials]
        if len(a) > 1:
            for alt in a[1:]:
                keys += (alt + rest, alt[0] + rest_initials)
        if len(b) > 1:
            keys += b[1:]
        if len(c) > 1:
            keys += c[1:]
    elif n == 2:
        a, b = table[name[0]], table[name[1]]
        if a is None or b is None:
            return None
        rest = b[0]
        keys = [a[0] + rest, rest, a[0][0] + rest[0]]
        if len(a) > 1:
            for alt in a[1:]:
                keys += (alt + rest, alt[0] + rest[0])
        if len(b) > 1:
            keys += b[1:]
    else:
        return None
    return " ".join(dict.fromkeys(keys))


class _AsciiReadings(dict[str, "tuple[str, ...] | None"]):
    """Character -> :func:`readings` when it has some and all are ASCII, else ``None``; filled
    as characters are first looked up (a dict lookup is cheaper than a cached call)."""

    def __missing__(self, ch: str) -> tuple[str, ...] | None:
        found = readings(ch)
        value = found if found and all(r.isascii() for r in found) else None
        self[ch] = value
        return value


_ASCII_READINGS = _AsciiReadings()


def _mixed_pinyin(name: str, chars: list[str]) -> str:
    """:func:`name_pinyin` of any name that is not ASCII (``chars``: its CJK characters)."""
    latin = "".join(c if c.isascii() and c.isalnum() else " " for c in name).lower().split()
    per_char = [readings(ch) or (ch,) for ch in chars]
    primary = [r[0] for r in per_char]
    keys: list[str] = list(latin)
    for i in range(len(primary)):
        keys.append("".join(primary[i:]))
    if primary:
        keys.append("".join(p[0] for p in primary))
    if per_char:
        for alt in per_char[0][1:]:
            keys.append(alt + "".join(primary[1:]))
            keys.append(alt[0] + "".join(p[0] for p in primary[1:]))
    for options in per_char[1:]:
        keys.extend(options[1:])
    return " ".join(dict.fromkeys(k for k in keys if k.isascii()))


@functools.lru_cache(maxsize=65536)
def name_keys(name: str) -> tuple[str, str, str]:
    """``(name_chars, name_pinyin, name_head)`` of ``name`` in one call, kept for names seen
    again (a first sync keys every customer's name, and about half the names of a 100 k scope
    are shared)."""
    chars = cjk_chars(name)
    if len(chars) == len(name) and not name.isascii():  # CJK only: the name is its characters
        pinyin = _cjk_keys(name)  # two or three characters, or None
        if pinyin is not None:
            head = f"{name[0]} {name}" if len(name) == 2 else f"{name[0]} {name[:2]} {name}"
            return " ".join(name), pinyin, head
    return " ".join(chars), name_pinyin.__wrapped__(name), _heads("".join(chars))
