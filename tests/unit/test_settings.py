"""Settings survive a restart, upgrade old files and never stop the desktop from starting."""

from __future__ import annotations

import tomllib
import uuid
from typing import Any

import pytest
import tomli_w

from agentdesk.paths import Paths
from agentdesk.settings import (
    SCHEMA_VERSION,
    Settings,
    SettingsError,
    load_settings,
    migrate,
    save_settings,
)


@pytest.fixture
def paths() -> Paths:
    return Paths.from_env()


def test_first_start_writes_defaults_with_a_new_device_id(paths: Paths) -> None:
    settings = load_settings(paths)
    assert settings.language == "zh_CN"
    assert uuid.UUID(settings.device_id).version == 4
    stored = tomllib.loads(paths.settings_file.read_text())
    assert stored["device_id"] == settings.device_id
    assert stored["schema_version"] == SCHEMA_VERSION


def test_device_id_is_generated_once(paths: Paths) -> None:
    assert load_settings(paths).device_id == load_settings(paths).device_id


def test_changes_survive_a_restart(paths: Paths) -> None:
    first = load_settings(paths)
    changed = first.replace(language="en", last_username="zhang.wei", theme="dark")
    save_settings(changed, paths)
    assert load_settings(paths) == changed


def test_invalid_values_are_refused_when_set() -> None:
    with pytest.raises(SettingsError, match="language"):
        Settings(language="fr")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="service_url"):
        Settings().replace(service_url="ftp://x")


def test_an_invalid_value_in_the_file_falls_back_to_its_default(paths: Paths) -> None:
    device = str(uuid.uuid4())
    paths.config.mkdir(parents=True)
    paths.settings_file.write_text(
        tomli_w.dumps({"language": "klingon", "device_id": device, "last_username": "li_na"})
    )
    settings = load_settings(paths)
    assert settings.language == "zh_CN"
    assert settings.device_id == device
    assert settings.last_username == "li_na"


def test_a_corrupt_file_is_kept_aside_and_replaced(paths: Paths) -> None:
    paths.config.mkdir(parents=True)
    paths.settings_file.write_text("language = [unclosed")
    settings = load_settings(paths)
    assert settings.language == "zh_CN"
    assert (paths.config / "settings.toml.corrupt").read_text() == "language = [unclosed"
    assert tomllib.loads(paths.settings_file.read_text())["device_id"] == settings.device_id


def test_migrators_run_in_order_up_to_the_target() -> None:
    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        out["service_url"] = out.pop("server", "http://127.0.0.1:8765")
        return out

    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "theme": "light" if data.get("theme") == "bright" else data["theme"]}

    old = {"server": "https://central.example", "theme": "bright"}
    new = migrate(old, {1: v1_to_v2, 2: v2_to_v3}, target=3)
    assert new == {"service_url": "https://central.example", "theme": "light", "schema_version": 3}


def test_a_missing_migrator_is_an_error() -> None:
    with pytest.raises(SettingsError, match="version 1"):
        migrate({"schema_version": 1}, {}, target=2)


def test_a_file_from_a_newer_version_is_read_but_not_overwritten(paths: Paths) -> None:
    paths.config.mkdir(parents=True)
    text = tomli_w.dumps({"schema_version": SCHEMA_VERSION + 1, "language": "en", "future": 1})
    paths.settings_file.write_text(text)
    assert load_settings(paths).language == "en"
    assert paths.settings_file.read_text() == text
