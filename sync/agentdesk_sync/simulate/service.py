"""Start the central service as a subprocess on a free port, for the simulation."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["running_service"]

_SERVE = (
    "import sys; from agentdesk_sync.server import run; "
    "run(sys.argv[1], '127.0.0.1', int(sys.argv[2]))"
)
_START_S = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + _START_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{base}/v1/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the service did not answer within {_START_S} s")
        time.sleep(0.2)


@contextmanager
def running_service(url: str, folder: Path) -> Iterator[str]:
    """Run ``agentdesk_sync.server`` on ``url``; yield its base URL; stop it at the end."""
    port = _free_port()
    log = folder / "service.log"
    with log.open("wb") as sink:
        command = [sys.executable, "-c", _SERVE, url, str(port)]
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, base, log)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
