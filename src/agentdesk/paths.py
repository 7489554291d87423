"""Where agentdesk keeps its files, and how to find the bundled resources.

Every folder comes from ``platformdirs`` and can be moved with one environment variable:

========  ==========================  =============================================
folder    variable                    holds
========  ==========================  =============================================
data      ``AGENTDESK_DATA_DIR``      per-user local caches with their outbox, the
                                      embedded central SQLite file
config    ``AGENTDESK_CONFIG_DIR``    ``settings.toml``
cache     ``AGENTDESK_CACHE_DIR``     disposable files (compiled translations)
log       ``AGENTDESK_LOG_DIR``       log files
state     ``AGENTDESK_STATE_DIR``     window geometry and other UI state
========  ==========================  =============================================

The per-user cache database lives in the *data* folder, not the cache folder, because it holds
the outbox of contact outcomes not yet sent: deleting it would lose work.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

import platformdirs

__all__ = [
    "APP_NAME",
    "ENV_VARS",
    "PathError",
    "Paths",
    "resource_path",
    "resources_root",
]

APP_NAME = "agentdesk"

ENV_VARS: Mapping[str, str] = {
    "data": "AGENTDESK_DATA_DIR",
    "config": "AGENTDESK_CONFIG_DIR",
    "cache": "AGENTDESK_CACHE_DIR",
    "log": "AGENTDESK_LOG_DIR",
    "state": "AGENTDESK_STATE_DIR",
}

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class PathError(OSError):
    """A folder agentdesk needs cannot be created or written."""


def _default_dirs() -> dict[str, Path]:
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return {
        "data": dirs.user_data_path,
        "config": dirs.user_config_path,
        "cache": dirs.user_cache_path,
        "log": dirs.user_log_path,
        "state": dirs.user_state_path,
    }


def _user_dir_name(username: str) -> str:
    """A file-system-safe, collision-free folder name for a username."""
    if _SAFE_NAME.fullmatch(username) and username not in {".", ".."}:
        return username
    digest = hashlib.sha256(username.encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", username)[:32].strip("_")
    return f"{slug}~{digest}" if slug else f"~{digest}"


@dataclass(frozen=True)
class Paths:
    """The folders of one agentdesk installation.

    Attributes:
        data: Per-user local caches (with their outbox) and the embedded central database.
        config: The settings file.
        cache: Disposable files such as compiled translations.
        log: Log files.
        state: UI state such as window geometry.
    """

    data: Path
    config: Path
    cache: Path
    log: Path
    state: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Paths:
        """Build the folders from the platform defaults and the ``AGENTDESK_*_DIR`` overrides.

        Args:
            environ: Environment to read; ``os.environ`` when omitted.

        Returns:
            The folders (not created yet; see :meth:`ensure`).
        """
        env = os.environ if environ is None else environ
        defaults = _default_dirs()
        chosen = {
            name: Path(env[var]).expanduser() if env.get(var) else defaults[name]
            for name, var in ENV_VARS.items()
        }
        return cls(**chosen)

    def as_dict(self) -> dict[str, Path]:
        """Folder name mapped to its path."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def ensure(self) -> Paths:
        """Create every folder and check that it can be written.

        Returns:
            ``self``, for chaining.

        Raises:
            PathError: A folder cannot be created or is not writable.
        """
        for name, folder in self.as_dict().items():
            _ensure_writable(name, folder)
        return self

    @property
    def settings_file(self) -> Path:
        """The TOML settings file."""
        return self.config / "settings.toml"

    @property
    def state_file(self) -> Path:
        """The UI state file (window geometry)."""
        return self.state / "state.toml"

    def user_dir(self, username: str) -> Path:
        """The data folder of one signed-in user (not created)."""
        if not username:
            msg = "A username is needed to choose the user's data folder."
            raise PathError(msg)
        return self.data / "users" / _user_dir_name(username)

    def user_cache_db(self, username: str) -> Path:
        """The local cache database (SQLite) of one user, kept in the data folder."""
        return self.user_dir(username) / "cache.db"

    def central_db(self) -> Path:
        """The embedded central SQLite file used when the service runs without ``--db``."""
        return self.data / "central.db"


def _ensure_writable(name: str, folder: Path) -> None:
    var = ENV_VARS[name]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"Cannot create the {name} folder {folder} ({exc.strerror or exc}); set {var}."
        raise PathError(msg) from exc
    if not folder.is_dir():
        msg = f"The {name} folder {folder} is not a folder; set {var} to a folder."
        raise PathError(msg)
    probe = folder / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        msg = f"Cannot write to the {name} folder {folder} ({exc.strerror or exc}); set {var}."
        raise PathError(msg) from exc


def resources_root() -> Path:
    """The folder holding the bundled resources (icons, QSS, translations, data).

    In an installed wheel (and a PyInstaller bundle) it is ``agentdesk/resources`` inside the
    package; in a source checkout (including an editable install) it is ``resources/`` at the
    repository root.
    """
    packaged = Path(str(resources.files("agentdesk"))) / "resources"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """The path of a bundled resource, e.g. ``resource_path("icons", "agentdesk.svg")``.

    Args:
        *parts: Path components below the resources folder.

    Returns:
        The path; it is not checked for existence.
    """
    return resources_root().joinpath(*parts)
