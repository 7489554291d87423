"""Pytest plugin: a throwaway PostgreSQL cluster for the test session.

Fixtures:

* ``pg_cluster`` (session): a private cluster in a temp folder on a free loopback port, started
  with ``fsync=off`` (tests only; commits survive a server crash, not an OS crash) and stopped
  with ``pg_ctl -m fast stop`` at teardown, also on failure. Fault tests may call
  ``pg_cluster.stop(mode="immediate")``, ``.start()`` and ``.restart()``; the next test finds
  the cluster running again.
* ``pg_url`` (function): a fresh, empty database per test, as a SQLAlchemy URL
  ``postgresql+psycopg://postgres@127.0.0.1:PORT/t_<hex>``; dropped afterwards.
* ``db_url`` (function, parametrized ``sqlite`` / ``postgresql``): for suites that must pass on
  both central stores.

When the PostgreSQL binaries are missing the plugin installs them with apt (it never skips).
Every test that uses the cluster gets the ``postgres`` marker. With ``--require-postgres``
(``make test`` passes it) the run fails when a PostgreSQL test was skipped or none ran.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

__all__ = ["PgCluster", "db_url", "find_pg_bindir", "pg_cluster", "pg_url"]

_PG_FIXTURES = frozenset({"pg_cluster", "pg_url"})


class PgSetupError(RuntimeError):
    """The throwaway PostgreSQL cluster could not be set up."""


def _search_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for cand in reversed(candidates):
        if (Path(cand) / "initdb").exists() and (Path(cand) / "pg_ctl").exists():
            return Path(cand)
    return None


def find_pg_bindir() -> Path:
    """Return the folder holding ``initdb`` and ``pg_ctl``, installing PostgreSQL if missing.

    Returns:
        The PostgreSQL ``bin`` folder.

    Raises:
        PgSetupError: The binaries are missing and cannot be installed (not root).
    """
    bindir = _search_bindir()
    if bindir is not None:
        return bindir
    if os.geteuid() != 0:
        msg = "PostgreSQL is missing; run: apt-get update && apt-get install -y postgresql"
        raise PgSetupError(msg)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "postgresql"], check=True, env=env)
    bindir = _search_bindir()
    if bindir is None:
        msg = "apt-get installed postgresql but initdb/pg_ctl were not found"
        raise PgSetupError(msg)
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    """Prefix a command so that it runs as the ``postgres`` user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class PgCluster:
    """A private PostgreSQL cluster owned by the test session.

    Attributes:
        bindir: Folder with the PostgreSQL programs.
        root: Temp folder holding the data folder, the socket and the log.
        port: TCP port on 127.0.0.1.
    """

    bindir: Path
    root: Path
    port: int = 0
    running: bool = field(default=False, init=False)

    @property
    def datadir(self) -> Path:
        """The cluster's data folder."""
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        """The server log written by ``pg_ctl``."""
        return self.root / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string of a database on this cluster (for psycopg directly)."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def _run(self, args: list[str]) -> None:
        proc = subprocess.run(_as_postgres(args), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            msg = f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()}\n{log}"
            raise PgSetupError(msg)

    def init(self) -> None:
        """Create the data folder with ``initdb`` (trust auth, superuser ``postgres``)."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            [str(self.bindir / "initdb"), "-D", str(self.datadir), "-A", "trust", "-U", "postgres",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        )  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections (a new port if taken)."""
        if self.running:
            return
        last: PgSetupError | None = None
        for _attempt in range(3):
            if not self.port:
                self.port = _free_port()
            opts = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            try:
                self._run(
                    [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile),
                     "-o", opts, "-w", "-t", "60", "start"]
                )  # fmt: skip
            except PgSetupError as exc:
                last = exc
                self.port = 0
                continue
            self.running = True
            return
        raise last or PgSetupError("pg_ctl start failed")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode`` is ``smart``, ``fast`` or ``immediate`` (a crash)."""
        if not self.running:
            return
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"])
        self.running = False

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again on the same port."""
        self.stop(mode=mode)
        self.start()

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run one statement outside a transaction (autocommit) as the superuser."""
        with psycopg.connect(self.conninfo(dbname), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self) -> str:
        """Create an empty database with a unique name and return the name."""
        name = f"t_{uuid.uuid4().hex}"
        # FILE_COPY beats the default WAL_LOG here: fsync is off and template1 is tiny.
        self.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting any client still attached."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stop_quietly(cluster: PgCluster) -> None:
    """Stop the cluster (fast, else immediate) and delete its files; never raises."""
    for mode in ("fast", "immediate"):
        try:
            cluster.stop(mode=mode)
            break
        except PgSetupError:
            continue
    shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """Start a throwaway PostgreSQL cluster for the session and stop it at the end."""
    bindir = find_pg_bindir()
    # As root the server runs as ``postgres``, which must reach the folder: /tmp, not a private
    # TMPDIR. The short path also keeps the Unix socket path under its length limit.
    parent = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
    cluster = PgCluster(bindir=bindir, root=Path(tempfile.mkdtemp(prefix="adpg-", dir=parent)))
    atexit.register(_stop_quietly, cluster)  # also when the session dies before teardown
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        atexit.unregister(_stop_quietly)
        _stop_quietly(cluster)


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, as a SQLAlchemy URL."""
    pg_cluster.start()
    name = pg_cluster.create_database()
    yield pg_cluster.url(name)
    pg_cluster.start()  # a fault test may have left it stopped
    pg_cluster.drop_database(name)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A central-store URL: an SQLite file under ``tmp_path`` or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/central.db"
    return str(request.getfixturevalue("pg_url"))


class _PgRunCheck:
    """Counts passed and skipped PostgreSQL tests and fails the run when asked to."""

    def __init__(self, required: bool) -> None:
        self.required = required
        self.passed = 0
        self.skipped = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count one PostgreSQL test result."""
        if "postgres" not in report.keywords:
            return
        if report.skipped:
            self.skipped += 1
        elif report.when == "call" and report.passed:
            self.passed += 1

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Fail a run whose PostgreSQL tests were skipped or absent (``--require-postgres``)."""
        if not self.required:
            return
        problem = ""
        if self.skipped:
            problem = f"{self.skipped} PostgreSQL test(s) were skipped"
        elif self.passed == 0 and exitstatus in (0, 5):
            problem = "no PostgreSQL test passed"
        if not problem:
            return
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"ERROR (--require-postgres): {problem}", red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--require-postgres``."""
    parser.addoption(
        "--require-postgres",
        action="store_true",
        help="fail the run when a PostgreSQL test was skipped or no PostgreSQL test passed",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the PostgreSQL run check."""
    required = bool(config.getoption("--require-postgres"))
    config.pluginmanager.register(_PgRunCheck(required), "agentdesk-pg-run-check")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the cluster (directly or through a fixture) with ``postgres``."""
    for item in items:
        if set(getattr(item, "fixturenames", ())) & _PG_FIXTURES:
            item.add_marker(pytest.mark.postgres)
