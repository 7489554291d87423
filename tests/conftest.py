"""Shared test setup: offscreen Qt, isolated agentdesk folders, the PostgreSQL plugin."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest

pytest_plugins = ["tests.pg"]

_DIR_VARS = {
    "AGENTDESK_DATA_DIR": "data",
    "AGENTDESK_CONFIG_DIR": "config",
    "AGENTDESK_CACHE_DIR": "cache",
    "AGENTDESK_LOG_DIR": "log",
    "AGENTDESK_STATE_DIR": "state",
}


@pytest.fixture(autouse=True)
def agentdesk_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point every ``AGENTDESK_*_DIR`` folder at a subfolder of the test's ``tmp_path``.

    Returns:
        The env var name mapped to the folder it now points at.
    """
    dirs = {}
    for var, sub in _DIR_VARS.items():
        folder = tmp_path / "agentdesk" / sub
        monkeypatch.setenv(var, str(folder))
        dirs[var] = folder
    return dirs
