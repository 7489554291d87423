"""Opening the per-user cache file: pragmas, one writer per role, read-only readers.

Thread-safety (docs/architecture.md, threads): SQLite connections are not shared between
threads at the same time. :class:`CacheDB` owns

* ``writer()``: the connection that records outcomes and intents, ``synchronous=FULL``; use it
  from ONE thread (the UI's single-writer executor). A lock serialises accidental misuse;
* ``sync_writer()``: the sync thread's own connection for applying pulled pages and push
  results, ``synchronous=NORMAL`` (docs/sync.md: a lost cache commit is re-downloaded);
* ``reader()``: read-only connections (``mode=ro``) from a small pool for the UI's read pool;
  WAL readers never block and are never blocked by the writers.

Write through :func:`transaction`, which takes the write lock up front (``BEGIN IMMEDIATE``),
commits, and maps every ``sqlite3`` failure to a typed :class:`StoreError`: success is never
reported without a durable commit.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from agentdesk.store.errors import StoreError, map_sqlite_error
from agentdesk.store.recovery import CorruptionReport, check_file, quarantine

__all__ = ["BUSY_TIMEOUT_MS", "CacheDB", "open_user_cache", "transaction"]

BUSY_TIMEOUT_MS = 5000


def _connect(
    path: Path, *, readonly: bool = False, synchronous: str = "FULL"
) -> sqlite3.Connection:
    """A connection with agentdesk's pragmas; autocommit mode (we BEGIN ourselves)."""
    target = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(
        target,
        uri=True,
        isolation_level=None,
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if readonly:
        conn.execute("PRAGMA query_only=1")
    else:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA cache_size=-16000")
    return conn


@contextmanager
def transaction(
    conn: sqlite3.Connection, *, mode: str = "IMMEDIATE"
) -> Iterator[sqlite3.Connection]:
    """One SQLite transaction: BEGIN, the body, COMMIT; ROLLBACK on any exception.

    Args:
        conn: a writer connection (autocommit mode).
        mode: ``IMMEDIATE`` (take the write lock now) or ``DEFERRED``.

    Yields:
        The same connection.

    Raises:
        StoreError: any ``sqlite3`` error of BEGIN, the body or COMMIT, typed.
    """
    try:
        conn.execute(f"BEGIN {mode}")
    except sqlite3.Error as exc:
        raise map_sqlite_error(exc) from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise map_sqlite_error(exc) from exc
        raise


class CacheDB:
    """The open cache file: writer connections, reader pool, and what recovery found.

    Attributes:
        path: the cache file.
        recovery: set when a damaged file was moved aside at open; the app shows
            ``recovery.sentence`` once.
    """

    def __init__(self, path: Path, recovery: CorruptionReport | None = None) -> None:
        self.path = path
        self.recovery = recovery
        self._writer = _connect(path, synchronous="FULL")
        self._writer_lock = threading.Lock()
        self._sync = _connect(path, synchronous="NORMAL")
        self._sync_lock = threading.Lock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._closed = False
        self._set_clean(False)

    def _set_clean(self, clean: bool) -> None:
        """Record whether the file was closed cleanly (``integrity="auto"`` reads it)."""
        with suppress(sqlite3.Error):
            self._writer.execute(
                "INSERT INTO app_meta (key, value) VALUES ('clean_shutdown', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                ("1" if clean else "0",),
            )

    @classmethod
    def open(cls, path: Path, *, integrity: str = "auto", migrate: bool = True) -> CacheDB:
        """Open (creating, recovering and migrating as needed) the cache file at ``path``.

        Args:
            path: the cache file (tests pass ``tmp_path / "cache.db"``).
            integrity: ``"auto"`` (``quick_check`` only after an unclean shutdown: it reads
                the whole file, seconds on a 1 M cache), ``"quick"``, ``"full"`` or ``"none"``
                (header and schema only).
            migrate: run the Alembic migrations first (docs/sync.md).

        Returns:
            The open cache; ``recovery`` says whether a damaged file was moved aside.

        Raises:
            MigrationFailed: the schema upgrade failed and the backup was restored.
            StoreError: the file cannot be created, read or written.
        """
        from agentdesk.store.migrate import upgrade

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise map_sqlite_error(exc) from exc
        report: CorruptionReport | None = None
        if not check_file(path, integrity):
            report = quarantine(path)
        if migrate:
            upgrade(path)
        try:
            db = cls(path, report)
        except sqlite3.Error as exc:
            raise map_sqlite_error(exc) from exc
        if report is not None and report.salvaged_rows:
            from agentdesk.store.recovery import restore_outbox

            restore_outbox(db, report)
        return db

    @contextmanager
    def writer(self) -> Iterator[sqlite3.Connection]:
        """The outcome writer connection (``synchronous=FULL``), held exclusively."""
        self._check_open()
        with self._writer_lock:
            yield self._writer

    @contextmanager
    def sync_writer(self) -> Iterator[sqlite3.Connection]:
        """The sync thread's writer connection (``synchronous=NORMAL``), held exclusively."""
        self._check_open()
        with self._sync_lock:
            yield self._sync

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection from the pool, returned to it afterwards."""
        self._check_open()
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            try:
                conn = _connect(self.path, readonly=True)
            except sqlite3.Error as exc:
                raise map_sqlite_error(exc) from exc
            self._all_readers.append(conn)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._readers.put(conn)

    def checkpoint(self) -> None:
        """Fold the WAL back into the main file (after a snapshot, or at exit)."""
        with self.writer() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close every connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._set_clean(True)
        for conn in [self._writer, self._sync, *self._all_readers]:
            conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("The local cache is already closed.")

    def __enter__(self) -> CacheDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_user_cache(username: str, *, integrity: str = "auto", migrate: bool = True) -> CacheDB:
    """Open the cache file of ``username`` (``Paths.from_env().user_cache_db(username)``).

    Args:
        username: the logged-in (or offline re-logging) user.
        integrity: see :meth:`CacheDB.open`.
        migrate: see :meth:`CacheDB.open`.

    Returns:
        The open cache.
    """
    from agentdesk.paths import Paths

    path = Paths.from_env().user_cache_db(username)
    return CacheDB.open(path, integrity=integrity, migrate=migrate)
