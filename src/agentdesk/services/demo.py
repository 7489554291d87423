"""The ``agentdesk demo`` plumbing: a demo folder, the service as a subprocess, seed and users.

Idempotent: the first run seeds the embedded SQLite database and creates one user per role,
with random passwords kept in ``users.json`` in the demo folder (printed once); later runs
reuse both. Every failure is a :class:`DemoError` with one sentence for the terminal.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["DEMO_USERS", "DemoError", "DemoService", "DemoUser"]


class DemoError(Exception):
    """The demo cannot start; ``str(exc)`` is the sentence to print."""


@dataclass(frozen=True, slots=True)
class DemoUser:
    """One demo account."""

    username: str
    role: str
    regions: tuple[str, ...] = ()
    password: str = ""


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("agent", "call_centre", ("440100",)),
    DemoUser("clerk", "store", ("440100",)),
    DemoUser("am_440100_1", "field"),
    DemoUser("supervisor", "supervisor", ("440100",)),
    DemoUser("admin", "admin"),
)


def _sync_cli() -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from agentdesk_sync.cli import main; sys.exit(main())",
    ]


class DemoService:
    """Owns the demo folder and the service subprocess.

    Args:
        folder: the demo folder (created if missing).
        port: the service port on 127.0.0.1.
        customers: how many customers to seed on the first run.
    """

    def __init__(self, folder: Path, port: int = 8765, customers: int = 20_000) -> None:
        self.folder = folder
        self.port = port
        self.customers = customers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def db_url(self) -> str:
        """The embedded SQLite database of the demo service."""
        return f"sqlite:///{self.folder / 'central.db'}"

    @property
    def url(self) -> str:
        """The service base URL."""
        return f"http://127.0.0.1:{self.port}"

    def prepare_folder(self) -> None:
        """Create the folder and check it can be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / ".write-test"
            probe.write_text("ok", encoding="utf-8")
            probe.unlink()
        except OSError as exc:
            raise DemoError(
                f"The demo data folder {self.folder} cannot be written ({exc.strerror})."
            ) from exc

    def check_port(self) -> None:
        """Fail when something already listens on the port."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", self.port))
            except OSError as exc:
                raise DemoError(
                    f"Port {self.port} is already in use (is another demo running?); "
                    "stop it or pass --port."
                ) from exc

    def seed_if_needed(self, log: Callable[[str], None] = print) -> bool:
        """Seed the database once; True when it seeded now."""
        marker = self.folder / "seeded.json"
        if marker.exists():
            return False
        log(f"Seeding {self.customers} demo customers (first run only)…")
        self._cli("seed", "--customers", str(self.customers), "--seed", "1")
        marker.write_text(json.dumps({"customers": self.customers}), encoding="utf-8")
        return True

    def users(self, log: Callable[[str], None] = print) -> dict[str, DemoUser]:
        """The demo users with passwords, created (and printed once) on the first run."""
        store = self.folder / "users.json"
        if store.exists():
            saved = json.loads(store.read_text(encoding="utf-8"))
            return {
                u.username: DemoUser(u.username, u.role, u.regions, saved[u.username])
                for u in DEMO_USERS
                if u.username in saved
            }
        made: dict[str, DemoUser] = {}
        for user in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            self._create_user(user, password)
            made[user.username] = DemoUser(user.username, user.role, user.regions, password)
        store.write_text(json.dumps({u: d.password for u, d in made.items()}), encoding="utf-8")
        os.chmod(store, 0o600)
        log("Demo users (passwords shown once; kept in " + str(store) + "):")
        for user in made.values():
            log(f"  {user.role:<12} {user.username:<14} {user.password}")
        return made

    def _create_user(self, user: DemoUser, password: str) -> None:
        args = [
            "create-user",
            "--username",
            user.username,
            "--password",
            password,
            "--role",
            user.role,
        ]
        for region in user.regions:
            args += ["--region", region]
        if user.role == "field":
            args += ["--portfolio-file", str(self._portfolio_file(user.username))]
        self._cli(*args)

    def _portfolio_file(self, manager: str) -> Path:
        path = self.folder / f"portfolio-{manager}.txt"
        with sqlite3.connect(self.folder / "central.db") as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT customer_id FROM customer WHERE account_manager_id = ? "
                    "ORDER BY customer_id",
                    (manager,),
                )
            ]
            if not ids:
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT customer_id FROM customer WHERE segment_id IN ('SS1','SS2','SS6') "
                        "ORDER BY customer_id LIMIT 300"
                    )
                ]
        path.write_text("\n".join(ids) + "\n", encoding="utf-8")
        return path

    def _cli(self, *args: str) -> None:
        command = [*_sync_cli(), args[0], "--db", self.db_url, *args[1:]]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise DemoError(f"agentdesk-sync {args[0]} failed: {reason}")

    def start_service(self, timeout: float = 60.0) -> None:
        """Start ``agentdesk-sync serve`` and wait until it answers ``/v1/health``."""
        log_file = (self.folder / "service.log").open("ab")
        command = [
            *_sync_cli(),
            "serve",
            "--db",
            self.db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise DemoError(
                        f"The service stopped at start-up; see {self.folder / 'service.log'}."
                    )
                try:
                    if client.get(f"{self.url}/v1/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        self.stop_service()
        raise DemoError(f"The service did not answer within {timeout:.0f} s.")

    def stop_service(self) -> None:
        """Stop the service subprocess (idempotent)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
