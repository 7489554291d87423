"""Search keys of Chinese names: pinyin spellings, also in a frozen build."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentdesk.store import names


def _forget() -> None:
    for cached in (names._table, names.readings, names.name_pinyin, names.name_keys):
        cached.cache_clear()
    names._ASCII_READINGS.clear()


@pytest.fixture
def fresh_table() -> Iterator[None]:
    _forget()
    yield
    _forget()


def test_pinyin_keys_of_a_name(fresh_table: None) -> None:
    keys = names.name_pinyin("张三").split()
    assert "zhangsan" in keys
    assert "zs" in keys


def test_a_package_folder_without_its_source_file_still_gives_pinyin(
    fresh_table: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A packaged app keeps pypinyin's folder but not ``pinyin_dict.py`` (bytecode only)."""
    real = importlib.util.find_spec

    def frozen(name: str, package: str | None = None) -> importlib.machinery.ModuleSpec | None:
        if name == "pypinyin":
            spec = importlib.machinery.ModuleSpec("pypinyin", None, is_package=True)
            spec.submodule_search_locations = [str(tmp_path)]  # no pinyin_dict.py in it
            return spec
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", frozen)
    assert "zhangsan" in names.name_pinyin("张三").split()


def test_the_keys_of_a_name_are_its_three_index_columns_also_when_seen_again() -> None:
    for name in ["张三丰", "曾小单", "Wang 吕布", "O'Brien", "", "张三丰", "吕"]:
        keys = (names.name_chars(name), names.name_pinyin(name), names.name_head(name))
        assert names.name_keys(name) == keys


def _pinyin_as_before(name: str) -> str:
    """The name's pinyin keys as the first version of the name index built them (one general
    way for every name): the reference the faster way for CJK names must match exactly."""
    if name.isascii():
        return " ".join("".join(c if c.isalnum() else " " for c in name).lower().split())
    latin = "".join(c if c.isascii() and c.isalnum() else " " for c in name).lower().split()
    per_char = [names.readings(ch) or (ch,) for ch in names.cjk_chars(name)]
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


# Common and polyphonic surname/given-name characters (曾 zeng/ceng, 单 dan/chan/shan, 吕 lv/lu,
# 乐 le/yue, 阿 a/e), characters without a reading in the table (U+3402, U+5159, U+F900), and the
# Latin letters, digits and marks that mixed names carry.
_NAME_ALPHABET = "张王李曾单吕乐阿朴解查仇区颖梅三丰小明红\u3402\u5159\uf900aZ9 ·'-"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_NAME_ALPHABET, max_size=5))
def test_a_name_gets_the_same_search_keys_as_before_the_faster_way(name: str) -> None:
    """Names of two or three CJK characters are keyed by a shorter way (a first sync keys every
    new name); any name must still get exactly the keys of the one general way, in order."""
    expected = _pinyin_as_before(name)
    assert names.name_pinyin.__wrapped__(name) == expected
    chars = names.cjk_chars(name)
    assert names.name_keys.__wrapped__(name) == (
        " ".join(chars),
        expected,
        " ".join("".join(chars)[: i + 1] for i in range(len(chars))),
    )
