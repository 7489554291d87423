"""The UI text follows the chosen language; dates and numbers follow the locale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages import pofile

from agentdesk import i18n
from agentdesk.i18n import N_, _, ngettext
from agentdesk.paths import resource_path

BEIJING = timezone(timedelta(hours=8))
MOMENT = datetime(2026, 11, 26, 11, 5, tzinfo=UTC)

TEST_PO = """\
msgid ""
msgstr ""
"Language: zh_CN\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"
"Content-Type: text/plain; charset=utf-8\\n"

msgid "Customer"
msgstr "客户"

msgid "%(count)d contact"
msgid_plural "%(count)d contacts"
msgstr[0] "%(count)d 次接触"

#, fuzzy
msgid "Guessed"
msgstr "猜的"
"""


@pytest.fixture
def locale_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "i18n"
    po = folder / "zh_CN" / "LC_MESSAGES" / "agentdesk.po"
    po.parent.mkdir(parents=True)
    po.write_text(TEST_PO, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def _restore_language() -> Iterator[None]:
    before = i18n.current_language()
    yield
    i18n.install(before)


def test_bundled_catalogue_gives_chinese_after_installing_zh_cn() -> None:
    assert i18n.install("zh_CN") == "zh_CN"
    assert _(i18n.LANGUAGE_NAMES["zh_CN"]) == "简体中文"
    assert _(i18n.LANGUAGE_NAMES["en"]) == "English"


def test_english_after_installing_en() -> None:
    i18n.install("zh_CN")
    i18n.install("en")
    assert _("Simplified Chinese") == "Simplified Chinese"
    assert i18n.current_language() == "en"


def test_counts_use_the_plural_rules_of_each_language(locale_dir: Path) -> None:
    i18n.install("en", locale_dir=locale_dir)
    assert ngettext("%(count)d contact", "%(count)d contacts", 1) % {"count": 1} == "1 contact"
    assert ngettext("%(count)d contact", "%(count)d contacts", 2) % {"count": 2} == "2 contacts"
    i18n.install("zh_CN", locale_dir=locale_dir)
    assert ngettext("%(count)d contact", "%(count)d contacts", 2) % {"count": 2} == "2 次接触"


def test_marked_text_is_translated_where_it_is_shown(locale_dir: Path) -> None:
    label = N_("Customer")
    assert label == "Customer"
    i18n.install("zh_CN", locale_dir=locale_dir)
    assert _(label) == "客户"


def test_unknown_and_fuzzy_text_stays_as_written(locale_dir: Path) -> None:
    i18n.install("zh_CN", locale_dir=locale_dir)
    assert _("No such message 42") == "No such message 42"
    assert _("Guessed") == "Guessed"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("zh", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh_Hans_CN.UTF-8", "zh_CN"),
        ("en_US", "en"),
        ("fr", "en"),
    ],
)
def test_language_spellings_are_normalised(given: str, expected: str) -> None:
    assert i18n.normalize_language(given) == expected


def test_catalogue_is_compiled_into_the_cache_once(tmp_path: Path, locale_dir: Path) -> None:
    cache = tmp_path / "cache"
    i18n.install("zh_CN", cache_dir=cache, locale_dir=locale_dir)
    compiled = list((cache / "i18n" / "zh_CN").glob("agentdesk-*.mo"))
    assert len(compiled) == 1
    stamp = compiled[0].stat().st_mtime_ns
    i18n.install("zh_CN", cache_dir=cache, locale_dir=locale_dir)
    assert compiled[0].stat().st_mtime_ns == stamp
    assert _("Customer") == "客户"


def test_an_edited_catalogue_is_recompiled(tmp_path: Path, locale_dir: Path) -> None:
    cache = tmp_path / "cache"
    i18n.install("zh_CN", cache_dir=cache, locale_dir=locale_dir)
    po = locale_dir / "zh_CN" / "LC_MESSAGES" / "agentdesk.po"
    po.write_text(TEST_PO.replace('"客户"', '"顾客"'), encoding="utf-8")
    i18n.install("zh_CN", cache_dir=cache, locale_dir=locale_dir)
    assert _("Customer") == "顾客"
    assert len(list((cache / "i18n" / "zh_CN").glob("agentdesk-*.mo"))) == 1


def test_translations_still_load_when_the_cache_cannot_be_written(
    tmp_path: Path, locale_dir: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    i18n.install("zh_CN", cache_dir=blocker, locale_dir=locale_dir)
    assert _("Customer") == "客户"


def test_every_chinese_entry_is_translated_with_matching_placeholders() -> None:
    po = resource_path("i18n", "zh_CN", "LC_MESSAGES", "agentdesk.po")
    with po.open("rb") as fh:
        catalog = pofile.read_po(fh, locale="zh_CN")
    untranslated = [m.id for m in catalog if m.id and (m.fuzzy or not (m.string and all(m.string)))]
    assert untranslated == []
    problems = [(m.id, [str(e) for e in errs]) for m, errs in catalog.check()]
    assert problems == []


def test_datetime_is_shown_in_each_language() -> None:
    assert i18n.format_datetime(MOMENT, "zh_CN", tz=BEIJING) == "2026年11月26日 19:05:00"
    english = i18n.format_datetime(MOMENT, "en", tz=BEIJING, fmt="short")
    assert english.replace("\u202f", " ") == "11/26/26, 7:05 PM"


def test_date_follows_the_display_time_zone() -> None:
    late = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    assert i18n.format_date(late, "zh_CN", tz=BEIJING) == "2026年11月27日"
    assert i18n.format_date(late, "en", tz=UTC) == "Nov 26, 2026"


def test_numbers_follow_the_locale() -> None:
    assert i18n.format_number(1234567.5, "zh_CN") == "1,234,567.5"
    assert i18n.format_decimal(Decimal("128"), "en") == "128.00"
    assert i18n.format_percent(0.125, "zh_CN") == "12%"


def test_formatting_defaults_to_the_installed_language() -> None:
    i18n.install("zh_CN")
    assert i18n.format_datetime(MOMENT, tz=BEIJING).startswith("2026年")


def test_qt_translation_for_chinese_is_found_and_english_needs_none() -> None:
    qm = i18n.qt_translation_file("zh_CN")
    assert qm is not None
    assert qm.name == "qtbase_zh_CN.qm"
    assert qm.is_file()
    assert i18n.qt_translation_file("en") is None
