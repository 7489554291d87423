"""The central service under test: the real ``agentdesk-sync`` CLI and ``serve`` on loopback.

Everything goes through the product's own commands (``seed``, ``create-user``, ``serve``); a
command that does not exist yet raises :class:`bench.context.NotReady`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.context import NotReady
from bench.procs import free_port, stop, wait_http

__all__ = ["PASSWORD", "Service", "login", "run_sync_cli", "serve"]

PASSWORD = "bench-pass-1"


# The Python entry points the CLI subcommands call (TEAM-CONTRACTS.md), used while the CLI
# module does not exist yet: the same product code, started the same way in a child process.
_FALLBACK = {
    "seed": "import sys; from agentdesk_sync.seed import seed_database; "
    "seed_database(sys.argv[3], int(sys.argv[5]), int(sys.argv[7]))",
    "serve": "import sys; from agentdesk_sync.server import run; "
    "run(sys.argv[3], sys.argv[5], int(sys.argv[7]))",
}


def _cli_exists() -> bool:
    import importlib.util

    return importlib.util.find_spec("agentdesk_sync.cli") is not None


def _cli(repo: Path, command: str = "") -> list[str]:
    if not _cli_exists() and command in _FALLBACK:
        return [sys.executable, "-c", _FALLBACK[command], command]
    script = Path(sys.executable).parent / "agentdesk-sync"
    if script.exists():
        return [str(script), *([command] if command else [])]
    return [sys.executable, "-m", "agentdesk_sync.cli", *([command] if command else [])]


def run_sync_cli(
    repo: Path, args: list[str], timeout: float = 7200
) -> subprocess.CompletedProcess[str]:
    """Run ``agentdesk-sync ARGS``; a missing CLI or subcommand raises NotReady.

    Raises:
        NotReady: the CLI or the subcommand does not exist yet.
        RuntimeError: the command failed.
    """
    proc = subprocess.run(
        [*_cli(repo, args[0]), *args[1:]], cwd=repo, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    err = proc.stderr.strip()
    if proc.returncode != 0:
        if "No module named" in err or "No such command" in err or "ImportError" in err:
            raise NotReady(f"agentdesk-sync {args[0]}: {err.splitlines()[-1] if err else ''}")
        msg = f"agentdesk-sync {args[0]} exited {proc.returncode}: {err[-500:]}"
        raise RuntimeError(msg)
    return proc


@dataclass(frozen=True, slots=True)
class Service:
    """A running service: its port, base URL and database URL."""

    port: int
    db_url: str

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serve(repo: Path, db_url: str, log: Path) -> Iterator[Service]:
    """Run ``agentdesk-sync serve --db URL`` on a free loopback port until the block ends."""
    port = free_port()
    env = {**os.environ, "AGENTDESK_SYNC_DB": db_url}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [*_cli(repo, "serve"), "--db", db_url, "--host", "127.0.0.1", "--port", str(port)],
            cwd=repo, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            try:
                wait_http(port, "/v1/health", 900, proc)
            except RuntimeError as exc:
                tail = log.read_text(errors="replace")[-600:]
                if "No such command" in tail or "No module named" in tail:
                    raise NotReady(
                        f"agentdesk-sync serve: {tail.strip().splitlines()[-1]}"
                    ) from exc
                raise RuntimeError(f"{exc}; log: {tail}") from exc
            yield Service(port=port, db_url=db_url)
        finally:
            stop(proc)


def login(base_url: str, username: str, device_id: str) -> str:
    """Log in over plain HTTP and return the bearer token."""
    body = {"username": username, "password": PASSWORD, "device_id": device_id}
    resp = httpx.post(f"{base_url}/v1/auth/login", json=body, timeout=30)
    resp.raise_for_status()
    return str(resp.json()["token"])
