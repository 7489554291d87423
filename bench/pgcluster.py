"""A throwaway PostgreSQL cluster for one benchmark run, with ``fsync`` ON (honest commits).

``initdb`` runs as the ``postgres`` user into a temp folder, the server listens on a random
loopback port, and the cluster is stopped and deleted when the run ends (also on failure).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.disk import forget_pages
from bench.procs import free_port

__all__ = ["PgCluster", "pg_cluster"]


def _bindir() -> Path:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(cand) / "initdb").exists():
            return Path(cand)
    msg = "PostgreSQL binaries (initdb, pg_ctl) not found"
    raise RuntimeError(msg)


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass(frozen=True, slots=True)
class PgCluster:
    """A running cluster: its port and folder."""

    port: int
    root: Path

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string of a database of this cluster."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)


def _initdb(bindir: Path, data: Path) -> None:
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                      "-E", "UTF8", "--locale=C.UTF-8"]),
        check=True, capture_output=True,
    )  # fmt: skip


@contextlib.contextmanager
def pg_cluster(
    template: Path | None = None,
    data: Path | None = None,
    settings: dict[str, str] | None = None,
    parent: Path | None = None,
) -> Iterator[PgCluster]:
    """Start a cluster (fsync on, synchronous_commit on); stop it at the end.

    Args:
        template: a stopped data folder to copy (a seeded store); the copy is deleted at the end.
        data: a data folder to use in place and keep (initdb'd when missing), to build a
            template.
        settings: server settings that replace the defaults (a template build's bulk-load
            settings; never for a measured cluster).
        parent: where the cluster's temp folder goes (the system temp folder when None).
    """
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="adbench-pg-", dir=parent))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    if data is not None:
        data.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data.parent, "postgres", "postgres")
        if not (data / "PG_VERSION").exists():
            _initdb(bindir, data)
    else:
        data = root / "data"
        if template is not None:
            subprocess.run(["cp", "-a", str(template), str(data)], check=True)
            os.sync()  # the copy's writeback must not land on the first measured commits
            forget_pages(template)  # the cluster reads the copy (bench/disk.py)
        else:
            _initdb(bindir, data)
    port = free_port()
    conf = {"listen_addresses": "127.0.0.1", "fsync": "on", "synchronous_commit": "on",
            "max_connections": "300", "shared_buffers": "1GB", **(settings or {})}  # fmt: skip
    opts = f"-p {port} -k {root} " + " ".join(f"-c {k}={v}" for k, v in conf.items())
    ctl = str(bindir / "pg_ctl")
    subprocess.run(
        _as_postgres([ctl, "-D", str(data), "-l", str(root / "server.log"), "-o", opts, "-w",
                      "-t", "120", "start"]),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield PgCluster(port=port, root=root)
    finally:
        subprocess.run(_as_postgres([ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                       check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
