"""The real central service as a subprocess on a loopback port (``agentdesk-sync serve``)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["ServiceProcess", "free_port"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(db_url: str, port: int) -> list[str]:
    serve = ["serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port)]
    script = Path(sys.executable).parent / "agentdesk-sync"
    if script.exists() and importlib.util.find_spec("agentdesk_sync.cli") is not None:
        return [str(script), *serve]
    code = (  # the CLI is not there yet: the same app under uvicorn
        "import sys, uvicorn; from agentdesk_sync.app import create_app; "
        "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), "
        "log_level='warning')"
    )
    return [sys.executable, "-c", code, db_url, str(port)]


class ServiceProcess:
    """``agentdesk-sync serve`` on ``db_url`` (already migrated and seeded).

    Args:
        db_url: the central store.
        log_path: where the service's output goes.
        port: the port (a free one by default).
    """

    def __init__(self, db_url: str, log_path: Path, port: int | None = None) -> None:
        self.db_url = db_url
        self.port = port or free_port()
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 600.0) -> ServiceProcess:
        """Start and wait until ``/v1/health`` answers (the process is killed if it never does)."""
        try:
            return self._start(timeout)
        except BaseException:
            if self._proc is not None:
                self._proc.kill()
                self._proc.wait()
                self._proc = None
            raise

    def _start(self, timeout: float) -> ServiceProcess:
        log = self._log_path.open("ab")
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(
            _command(self.db_url, self.port), stdout=log, stderr=subprocess.STDOUT, env=env
        )
        log.close()
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"service exited: {self._log_path.read_text()[-2000:]}")
                try:
                    if client.get(f"{self.url}/v1/health").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError("service did not become healthy")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
