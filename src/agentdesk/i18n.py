"""Translations (gettext) and locale-aware formatting (Babel).

Mark text with ``_("...")``; text defined at import time (tables, enum labels) with ``N_("...")``
and translate it with ``_()`` where it is shown; counts with ``ngettext(singular, plural, n)``.
The source strings are English. Catalogues live in
``resources/i18n/<lang>/LC_MESSAGES/agentdesk.po``; ``install(language)`` compiles the ``.po``
to a ``.mo`` in the cache folder the first time (and again whenever the ``.po`` changes: the
file name carries a hash of its content), so no compiled file is ever committed. When the cache
folder cannot be written the catalogue is compiled in memory.

``make i18n`` extracts new msgids from ``src/`` and ``sync/`` into the ``.po`` files, keeping
existing translations.

Qt's own strings (standard buttons, context menus) are translated by Qt's ``qtbase_<lang>.qm``;
:func:`qt_translations_dir` / :func:`qt_translation_file` locate it without importing Qt, and the
UI loads it into a ``QTranslator``.

The active catalogue is the one piece of module state in agentdesk: gettext's ``_`` must be
callable from anywhere without passing a translator around.
"""

from __future__ import annotations

import gettext
import hashlib
import importlib.util
import io
import logging
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages import mofile, pofile

from agentdesk.paths import Paths, resource_path

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "N_",
    "_",
    "compile_catalog",
    "current_language",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_number",
    "format_percent",
    "install",
    "ngettext",
    "normalize_language",
    "qt_translation_file",
    "qt_translations_dir",
]

_log = logging.getLogger(__name__)

DOMAIN = "agentdesk"
LANGUAGES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


#: Names for a language picker; show them with ``_(LANGUAGE_NAMES[code])``.
LANGUAGE_NAMES: dict[str, str] = {"zh_CN": N_("Simplified Chinese"), "en": N_("English")}


class _Active:
    """The installed catalogue and its language."""

    def __init__(self) -> None:
        self.language = "en"
        self.translations: gettext.NullTranslations = gettext.NullTranslations()


_ACTIVE = _Active()


def _(message: str) -> str:
    """Translate ``message`` into the installed language."""
    return _ACTIVE.translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message that depends on a count ``n``."""
    return _ACTIVE.translations.ngettext(singular, plural, n)


def current_language() -> str:
    """The language passed to the last :func:`install` (``"en"`` before any)."""
    return _ACTIVE.language


def normalize_language(language: str) -> str:
    """Map ``zh``, ``zh-CN``, ``zh_Hans_CN``, ``en_US``, ... to one of :data:`LANGUAGES`.

    Unknown languages map to English, the language of the source strings.
    """
    code = language.replace("-", "_").split(".")[0].lower()
    if code.startswith("zh"):
        return "zh_CN"
    return "en"


def _po_path(language: str, locale_dir: Path | None) -> Path:
    base = locale_dir if locale_dir is not None else resource_path("i18n")
    return base / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalog(po_bytes: bytes, language: str) -> bytes:
    """Compile the text of a ``.po`` file to ``.mo`` bytes.

    Args:
        po_bytes: Content of the ``.po`` file.
        language: Its language (for plural rules).

    Returns:
        The ``.mo`` file content; fuzzy entries are left out.
    """
    catalog = pofile.read_po(io.BytesIO(po_bytes), locale=language, domain=DOMAIN)
    out = io.BytesIO()
    mofile.write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _cached_mo(po_bytes: bytes, language: str, cache_dir: Path) -> bytes:
    """The ``.mo`` for this ``.po`` content, from the cache folder or compiled into it."""
    digest = hashlib.sha256(po_bytes).hexdigest()[:16]
    target = cache_dir / "i18n" / language / f"{DOMAIN}-{digest}.mo"
    if target.is_file():
        return target.read_bytes()
    mo = compile_catalog(po_bytes, language)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob(f"{DOMAIN}-*.mo"):
            old.unlink(missing_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(mo)
        tmp.replace(target)
    except OSError as exc:
        _log.warning("i18n: cannot cache %s (%s); using it from memory", target, exc)
    return mo


def _load(
    language: str, cache_dir: Path | None, locale_dir: Path | None
) -> gettext.NullTranslations:
    po = _po_path(language, locale_dir)
    if not po.is_file():
        return gettext.NullTranslations()
    po_bytes = po.read_bytes()
    mo = _cached_mo(po_bytes, language, cache_dir or Paths.from_env().cache)
    return gettext.GNUTranslations(io.BytesIO(mo))


def install(language: str, cache_dir: Path | None = None, *, locale_dir: Path | None = None) -> str:
    """Make ``language`` the language of :func:`_` and :func:`ngettext`.

    Args:
        language: ``"zh_CN"`` or ``"en"`` (other spellings are normalised).
        cache_dir: Where compiled catalogues are kept; the cache folder when omitted.
        locale_dir: Folder of ``<lang>/LC_MESSAGES/agentdesk.po``; the bundled
            ``resources/i18n`` when omitted.

    Returns:
        The language actually installed.
    """
    lang = normalize_language(language)
    _ACTIVE.translations = _load(lang, cache_dir, locale_dir)
    _ACTIVE.language = lang
    return lang


def _locale(language: str | None) -> Locale:
    return Locale.parse(normalize_language(language or _ACTIVE.language))


def format_datetime(
    dt: datetime, lang: str | None = None, *, tz: tzinfo | None = None, fmt: str = "medium"
) -> str:
    """Format a date and time for display, e.g. ``2026年11月26日 19:05:00``.

    Args:
        dt: A timezone-aware datetime (agentdesk keeps UTC).
        lang: Display language; the installed one when omitted.
        tz: Display time zone; the computer's local zone when omitted.
        fmt: ``short``, ``medium``, ``long``, ``full`` or a CLDR pattern.

    Returns:
        The formatted text.
    """
    return babel_dates.format_datetime(dt, fmt, tzinfo=tz, locale=_locale(lang))


def format_date(
    dt: datetime, lang: str | None = None, *, tz: tzinfo | None = None, fmt: str = "medium"
) -> str:
    """Format the date part (in the display time zone) of a datetime."""
    local = dt.astimezone(tz)
    return babel_dates.format_date(local.date(), fmt, locale=_locale(lang))


def format_number(value: float | Decimal, lang: str | None = None) -> str:
    """Format a number with the language's grouping and decimal signs, e.g. ``1,234,567.5``."""
    return babel_numbers.format_decimal(value, locale=_locale(lang))


def format_decimal(value: float | Decimal, lang: str | None = None, *, places: int = 2) -> str:
    """Format a number with exactly ``places`` decimals, e.g. ``128.00``."""
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return babel_numbers.format_decimal(value, format=pattern, locale=_locale(lang))


def format_percent(value: float, lang: str | None = None) -> str:
    """Format a ratio as a percentage, e.g. ``0.125`` as ``12%``."""
    return babel_numbers.format_percent(value, locale=_locale(lang))


def qt_translations_dir() -> Path | None:
    """PySide6's folder of Qt's own ``.qm`` translations, found without importing Qt.

    The UI installs ``qtbase_<lang>.qm`` from here into a ``QTranslator`` so that standard
    buttons and dialogs follow the chosen language. Returns ``None`` when PySide6 is absent.
    """
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "Qt" / "translations"
        if folder.is_dir():
            return folder
    return None


def qt_translation_file(language: str) -> Path | None:
    """The ``qtbase_<lang>.qm`` file for a language, or ``None`` (English needs none)."""
    lang = normalize_language(language)
    folder = qt_translations_dir()
    if lang == "en" or folder is None:
        return None
    candidate = folder / f"qtbase_{lang}.qm"
    return candidate if candidate.is_file() else None
