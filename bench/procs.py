"""Child processes of a benchmark run: free ports, waiting for readiness, clean stops.

Every process started here is stopped by its own pid when the run ends (also on failure).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["bare_server", "free_port", "stop", "wait_http"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(port: int, path: str, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    """Wait until ``GET path`` on the port answers 200.

    Raises:
        RuntimeError: The process died or did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"process exited with {proc.returncode} before answering {path}"
            raise RuntimeError(msg)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    msg = f"no answer on port {port}{path} within {timeout:.0f} s"
    raise RuntimeError(msg)


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop a child process by its pid: SIGTERM, then SIGKILL after ``timeout``."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def bare_server(repo: Path) -> Iterator[int]:
    """Run :mod:`bench.bareserver` in a child process; yields its port."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(repo)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bareserver", str(port)], cwd=repo, env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(port, "/", 20, proc)
        yield port
    finally:
        stop(proc)
