"""The user's settings: one typed, frozen object stored as TOML in the config folder.

``load_settings`` reads ``settings.toml``, upgrades older files with the migrators, fills
defaults (a new ``device_id`` the first time) and writes the file back when anything changed.
A field with an invalid value falls back to its default; an unreadable file is kept aside as
``settings.toml.corrupt`` and replaced by defaults, so a bad file never stops the desktop from
starting. Window geometry is UI state and lives in the state folder, not here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import tomli_w

from agentdesk.paths import Paths

__all__ = [
    "LANGUAGES",
    "MIGRATORS",
    "SCHEMA_VERSION",
    "THEMES",
    "Language",
    "Settings",
    "SettingsError",
    "load_settings",
    "migrate",
    "save_settings",
]

_log = logging.getLogger(__name__)

Language = Literal["zh_CN", "en"]
Theme = Literal["light", "dark"]
LANGUAGES: tuple[str, ...] = get_args(Language)
THEMES: tuple[str, ...] = get_args(Theme)

SCHEMA_VERSION = 1

Migrator = Callable[[dict[str, Any]], dict[str, Any]]
#: ``MIGRATORS[n]`` turns a version-``n`` mapping into a version ``n + 1`` mapping.
MIGRATORS: Mapping[int, Migrator] = {}


class SettingsError(ValueError):
    """A settings value is invalid."""


@dataclass(frozen=True)
class Settings:
    """What the user chose, plus the device identity.

    Attributes:
        service_url: Base URL of the central shared-data service.
        language: UI language, ``"zh_CN"`` or ``"en"``.
        theme: ``"light"`` or ``"dark"``.
        device_id: This installation's id (uuid4), generated once and sent at login and push.
        last_username: Pre-filled on the login screen.
        schema_version: Version of the stored layout.
    """

    service_url: str = "http://127.0.0.1:8765"
    language: Language = "zh_CN"
    theme: Theme = "light"
    device_id: str = ""
    last_username: str = ""
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        """Reject invalid values.

        Raises:
            SettingsError: A field has a value the desktop cannot use.
        """
        for name in _FIELD_NAMES:
            problem = _CHECKS[name](getattr(self, name))
            if problem:
                msg = f"Setting {name}={getattr(self, name)!r} is invalid: {problem}."
                raise SettingsError(msg)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The TOML-ready mapping."""
        return dataclasses.asdict(self)


def _check_url(value: object) -> str:
    ok = isinstance(value, str) and value.startswith(("http://", "https://"))
    return "" if ok else "expected an http:// or https:// URL"


def _check_choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    def check(value: object) -> str:
        return "" if value in choices else f"expected one of {', '.join(choices)}"

    return check


def _check_device_id(value: object) -> str:
    if value == "":
        return ""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return "expected a UUID"
    return "" if isinstance(value, str) else "expected a UUID string"


def _check_str(value: object) -> str:
    return "" if isinstance(value, str) else "expected text"


def _check_version(value: object) -> str:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    return "" if ok else "expected a positive integer"


_CHECKS: Mapping[str, Callable[[object], str]] = {
    "service_url": _check_url,
    "language": _check_choice(LANGUAGES),
    "theme": _check_choice(THEMES),
    "device_id": _check_device_id,
    "last_username": _check_str,
    "schema_version": _check_version,
}
_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Settings))


def migrate(
    data: Mapping[str, Any],
    migrators: Mapping[int, Migrator] = MIGRATORS,
    target: int = SCHEMA_VERSION,
) -> dict[str, Any]:
    """Upgrade a stored mapping, one version at a time, to ``target``.

    Args:
        data: The mapping as read from TOML; a missing ``schema_version`` means 1.
        migrators: ``n -> function`` turning version ``n`` into ``n + 1``.
        target: The version to reach.

    Returns:
        The upgraded mapping with ``schema_version == target`` (a newer file is left as is).

    Raises:
        SettingsError: No migrator for a version on the way.
    """
    out = dict(data)
    version = out.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        version = 1
    while version < target:
        step = migrators.get(version)
        if step is None:
            msg = f"No settings migrator from schema version {version}."
            raise SettingsError(msg)
        out = step(out)
        version += 1
        out["schema_version"] = version
    return out


def _from_mapping(data: Mapping[str, Any]) -> Settings:
    """Build settings from a mapping, replacing each invalid field with its default."""
    defaults = Settings()
    values: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        if name not in data:
            continue
        if _CHECKS[name](data[name]):
            _log.warning("settings: ignoring invalid %s=%r", name, data[name])
            continue
        values[name] = data[name]
    values["schema_version"] = max(int(values.get("schema_version", 1)), SCHEMA_VERSION)
    settings = dataclasses.replace(defaults, **values)
    if not settings.device_id:
        settings = settings.replace(device_id=str(uuid.uuid4()))
    return settings


def _read(paths: Paths) -> dict[str, Any] | None:
    path = paths.settings_file
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        aside = path.with_name(path.name + ".corrupt")
        os.replace(path, aside)
        _log.warning("settings: %s is unreadable (%s); kept as %s", path, exc, aside)
        return None


def load_settings(paths: Paths) -> Settings:
    """Read the settings, creating or repairing the file when needed.

    Args:
        paths: The installation's folders (the config folder is created if missing).

    Returns:
        Valid settings with a ``device_id``. A file written by a newer agentdesk is read as far
        as it is understood and never overwritten here.
    """
    raw = _read(paths)
    settings = _from_mapping(migrate(raw or {}))
    newer = raw is not None and settings.schema_version > SCHEMA_VERSION
    if not newer and (raw is None or settings.to_dict() != raw):
        save_settings(settings, paths)
    return settings


def save_settings(settings: Settings, paths: Paths) -> None:
    """Write the settings atomically (a temp file, then rename).

    Args:
        settings: What to store.
        paths: The installation's folders.
    """
    path = paths.settings_file
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(tomli_w.dumps(settings.to_dict()).encode())
    os.replace(tmp, path)
