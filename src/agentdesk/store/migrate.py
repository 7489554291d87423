"""Schema migrations at start-up: back up, upgrade in one transaction, restore on failure.

Before upgrading, ``VACUUM INTO`` a backup (unless every pending revision only rebuilds an
index: ``NEEDS_BACKUP = False``); the whole upgrade runs in one SQLite transaction (pysqlite's
implicit transaction handling is switched off so that DDL is transactional); on any failure the
cache file is replaced by the backup, byte for byte (without one, the rollback leaves it as it
was), and :class:`MigrationFailed` tells the app to keep sync paused (docs/sync.md).

Start-up cost: a cache already at :data:`HEAD` is recognised with one raw ``sqlite3`` read, so
Alembic and SQLAlchemy (about a third of a cold start's imports) are only imported to migrate.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.store.errors import (
    CacheTooNewError,
    MigrationFailed,
    StoreError,
    map_sqlite_error,
)

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

__all__ = ["HEAD", "MigrationResult", "current_revision", "head_revision", "upgrade"]

DEFAULT_SCRIPTS = Path(__file__).resolve().parent / "migrations"
HEAD = "0005"
"""The newest revision in ``migrations/versions`` (a test keeps it equal to Alembic's head)."""
PAGE_SIZE = 8192
"""Page size of a cache file created from scratch (docs/operations.md, cache file). SQLite's
default, 4 KB, holds one ~2 KB customer row per page; 8 KB holds three, so a first sync writes
and checkpoints about 15 % less and rebuilds its indexes from fewer pages. A cache made with
another page size keeps it (changing it means rewriting the whole file)."""


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """What :func:`upgrade` did.

    Attributes:
        from_revision: revision before (``None`` = empty file).
        to_revision: revision after.
        backup: the ``VACUUM INTO`` copy taken first, or ``None`` when nothing needed saving.
    """

    from_revision: str | None
    to_revision: str | None
    backup: Path | None

    @property
    def changed(self) -> bool:
        """Whether any migration ran."""
        return self.from_revision != self.to_revision


def _engine(path: Path) -> Engine:
    """An engine whose transactions really include DDL (BEGIN emitted by us)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA busy_timeout=5000")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _config(script_location: Path) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def head_revision(script_location: Path = DEFAULT_SCRIPTS) -> str | None:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(script_location)).get_current_head()


def _known(script_location: Path, revision: str) -> bool:
    """Whether this code knows ``revision`` (a newer agentdesk may have written the file)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config(script_location))
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several resolution errors for unknown ids
        return False


def current_revision(path: Path) -> str | None:
    """The revision stamped in the cache file at ``path`` (``None`` when never migrated)."""
    from alembic.migration import MigrationContext

    engine = _engine(path)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _stamped(path: Path) -> str | None:
    """The revision in ``alembic_version``, read with plain ``sqlite3`` (None: none or no file)."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def _needs_backup(script_location: Path, before: str | None, target: str) -> bool:
    """Whether a revision between ``before`` and ``target`` may change data.

    A revision that only rebuilds indexes says ``NEEDS_BACKUP = False``: the upgrade is one
    transaction, so a failure leaves the file as it was, and a ``VACUUM INTO`` copy of a
    million-customer cache (about 10 GB) would cost more time and disk than the index.
    """
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config(script_location))
    pending = scripts.iterate_revisions(target, before)
    return any(getattr(rev.module, "NEEDS_BACKUP", True) for rev in pending)


def _has_tables(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        return bool(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0)
    finally:
        conn.close()


def _set_page_size(path: Path) -> None:
    """Give a cache file without tables :data:`PAGE_SIZE` pages (before the first table)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("VACUUM")  # applies it to a file that already has a header
    finally:
        conn.close()


def _backup(path: Path, revision: str | None) -> Path:
    """``VACUUM INTO`` a timestamped copy next to the cache file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = path.with_name(f"{path.name}.pre-migrate-{revision or 'none'}-{stamp}.bak")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    finally:
        conn.close()
    return target


def _restore(path: Path, backup: Path) -> None:
    """Put the backup back in place of the cache file; drop the WAL of the failed attempt."""
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
    shutil.copyfile(backup, path)


def upgrade(
    path: Path, *, script_location: Path = DEFAULT_SCRIPTS, target: str = "head"
) -> MigrationResult:
    """Bring the cache file at ``path`` to the newest schema; idempotent.

    No other connection may be open on the file while this runs (call it before opening the
    cache's connections).

    Args:
        path: the cache file; created when missing.
        script_location: the Alembic scripts folder (tests pass a broken copy).
        target: the revision to reach (tests build old files with it).

    Returns:
        What was done.

    Raises:
        MigrationFailed: the upgrade failed; the file was restored from the backup.
        CacheTooNewError: a newer agentdesk wrote the file (nothing was changed).
        StoreError: the backup itself could not be taken (disk full, read-only…).
    """
    if target == "head" and script_location == DEFAULT_SCRIPTS and _stamped(path) == HEAD:
        return MigrationResult(HEAD, HEAD, None)  # the usual start: nothing to import or do
    head = head_revision(script_location) if target == "head" else target
    before = current_revision(path)
    if before == head:
        return MigrationResult(before, head, None)
    if before is not None and not _known(script_location, before):
        raise CacheTooNewError()
    try:
        if _has_tables(path):
            needed = _needs_backup(script_location, before, head or target)
            backup: Path | None = _backup(path, before) if needed else None
        else:
            backup = None
            _set_page_size(path)
    except (sqlite3.Error, OSError) as exc:
        raise map_sqlite_error(exc) from exc
    from alembic import command

    engine = _engine(path)
    cfg = _config(script_location)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
    except Exception as exc:
        engine.dispose()
        if backup is not None:
            _restore(path, backup)
        if isinstance(exc, StoreError) and not isinstance(exc, MigrationFailed):
            raise
        raise MigrationFailed(backup, cause=repr(exc)) from exc
    engine.dispose()
    return MigrationResult(before, head, backup)
