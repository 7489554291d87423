"""`agentdesk demo` refuses bad conditions with one clear sentence."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from agentdesk.services.demo import DemoError, DemoService


def test_busy_port_is_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(DemoError, match=rf"Port {port} is already in use"):
            DemoService(tmp_path, port).check_port()


def test_unwritable_folder_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(DemoError, match="cannot be written"):
        DemoService(blocker / "demo").prepare_folder()


def test_second_run_reuses_users_without_printing_passwords(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text('{"agent": "pw1", "clerk": "pw2"}', encoding="utf-8")
    printed: list[str] = []
    users = DemoService(tmp_path).users(log=printed.append)
    assert users["agent"].password == "pw1"
    assert users["agent"].role == "call_centre"
    assert printed == []
    assert os.path.exists(tmp_path / "users.json")


def test_the_first_sync_shot_is_refused_without_a_screenshot(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Its cache is thrown away at exit: run for real use, it would drop unsent outcomes."""
    from agentdesk.__main__ import main

    assert main(["demo", "--show", "first-sync"]) == 1
    assert main(["demo", "--show", "first-sync", "--smoke"]) == 1
    assert "--screenshot only" in capsys.readouterr().err
