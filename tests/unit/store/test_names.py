"""Search keys of Chinese names: pinyin spellings, also in a frozen build."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdesk.store import names


def _forget() -> None:
    for cached in (names._table, names.readings, names.name_pinyin):
        cached.cache_clear()


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
