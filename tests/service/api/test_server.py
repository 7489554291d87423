"""``agentdesk_sync.server.run``: a real uvicorn process, and a port already in use."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agentdesk_sync.server import bind, run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_port_in_use_is_one_sentence_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exit_info:
            run(f"sqlite:///{tmp_path}/central.db", "127.0.0.1", port)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"Port {port}" in err
    assert "already in use" in err


def test_serve_migrates_and_answers_over_a_real_socket(store: str) -> None:
    port = _free_port()
    code = f"from agentdesk_sync.server import run; run({store!r}, '127.0.0.1', {port})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "Application startup complete" in line:
                break
        else:
            raise AssertionError(f"the server exited with {proc.wait()}")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            health = client.get("/v1/health")
            assert health.status_code == 200
            assert health.json()["status"] == "ok"
            login = client.post(
                "/v1/auth/login", json={"username": "cc1", "password": "pw-cc1", "device_id": "d"}
            )
            token = login.json()["token"]
            view = client.get(
                "/v1/customers/C00000001", headers={"Authorization": f"Bearer {token}"}
            )
            assert view.status_code == 200
            assert view.json()["customer_id"] == "C00000001"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_listening_socket_turns_nagle_off_for_every_connection() -> None:
    # With Nagle on, each keep-alive answer waited ~40 ms for the client's delayed ACK: a
    # one-contact push took 48 ms instead of 6 ms. Accepted sockets inherit TCP_NODELAY.
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        with socket.create_connection(sock.getsockname()):
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()
