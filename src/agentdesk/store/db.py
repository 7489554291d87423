"""Opening the per-user cache file: pragmas, one writer per role, read-only readers.

Thread-safety (docs/architecture.md, threads): SQLite connections are not shared between
threads at the same time. :class:`CacheDB` owns

* ``writer()``: the connection that records outcomes and intents, ``synchronous=FULL``; use it
  from ONE thread (the UI's single-writer executor). A lock serialises accidental misuse. Its
  commits never checkpoint the WAL (``wal_autocheckpoint=0``): a checkpoint copies megabytes
  into the main file and syncs it, which made one save in about a hundred take hundreds of
  milliseconds. A background thread with its own connection does it instead, in a pause
  between saves (:class:`_Checkpointer`, ``PASSIVE``: it never blocks a writer). That thread
  first writes zeros past the end of the WAL file, once (:data:`WAL_PREALLOCATE`), so that a
  save rewrites blocks the file already has: a commit that made the file longer had to
  journal its new size, and so waited on the other writes of the disk;
* ``sync_writer()``: the sync thread's own connection for applying pulled pages and push
  results, ``synchronous=NORMAL`` (docs/sync.md: a lost cache commit is re-downloaded);
* ``reader()``: read-only connections (``mode=ro``) from a small pool for the UI's read pool;
  WAL readers never block and are never blocked by the writers.

Write through :func:`transaction`, which takes the write lock up front (``BEGIN IMMEDIATE``),
commits, and maps every ``sqlite3`` failure to a typed :class:`StoreError`: success is never
reported without a durable commit.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from agentdesk.store.errors import StoreError, map_sqlite_error
from agentdesk.store.recovery import CorruptionReport, check_file, quarantine

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CHECKPOINT_AT_LATEST",
    "CHECKPOINT_EVERY",
    "CLOSE_WAIT_S",
    "IDLE_S",
    "PREALLOCATE_AFTER_S",
    "PREALLOCATE_FROM",
    "WAL_PREALLOCATE",
    "CacheDB",
    "open_user_cache",
    "transaction",
]

BUSY_TIMEOUT_MS = 5000
CHECKPOINT_EVERY = 32  # writes (an outcome: ~17 WAL pages) before a checkpoint is due
CHECKPOINT_AT_LATEST = 256  # writes after which it runs even without a pause (~17 MB of WAL)
IDLE_S = 0.2  # a pause between writes long enough to checkpoint in
WAL_PREALLOCATE = 20 << 20  # bytes of WAL written once: CHECKPOINT_AT_LATEST outcomes fit
PREALLOCATE_FROM = 64 << 20  # cache files smaller than this (tests, first start) are not
PREALLOCATE_AFTER_S = 1.0  # ... in the first pause this long after the open (not at login)
CLOSE_WAIT_S = 2.0  # how long close() waits for the last checkpoint (it is an optimisation)
log = logging.getLogger(__name__)


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


class _Checkpointer:
    """Folds the WAL back into the cache file on its own thread and connection.

    :meth:`wrote` is cheap and never waits. Every :data:`CHECKPOINT_EVERY` writes the thread runs
    a ``PASSIVE`` checkpoint (it copies what no reader still needs and never blocks a writer) in
    the next pause of :data:`IDLE_S` between writes, so that its writes to the cache file do not
    share the disk with a save's sync; after :data:`CHECKPOINT_AT_LATEST` writes without a pause
    it runs anyway. Started when a big cache opens (else on the first write), the thread first
    preallocates the WAL (best effort). No error ends the thread: with the writer's
    ``wal_autocheckpoint=0`` the WAL would then grow without bound.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._writes = 0  # since the last checkpoint
        self._last_write = time.monotonic()  # the open counts as a write for the first pause
        self.done = 0  # checkpoints run (tests read it)
        self.preallocated = threading.Event()  # set once the WAL is preallocated (or not)

    def start(self) -> None:
        """Start the thread: it preallocates the WAL, then waits for writes."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ad-checkpoint", daemon=True)
            self._thread.start()

    def wrote(self) -> None:
        """One more write through the writer connection (called after its lock is released)."""
        self._last_write = time.monotonic()
        self._writes += 1
        self.start()
        if self._writes >= CHECKPOINT_EVERY:
            self._wake.set()

    def stop(self, wait_s: float) -> None:
        """Run the checkpoint that is due, if any, and end the thread; wait for it at most
        ``wait_s`` seconds (a daemon thread: one still checkpointing at exit is just cut
        short, which leaves the WAL and the cache file consistent)."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=wait_s)

    def _run(self) -> None:
        try:
            conn = _connect(self._path, synchronous="FULL")
        except sqlite3.Error:
            self.preallocated.set()
            log.warning("no checkpoint connection; commits of the sync writer still checkpoint")
            return
        try:
            try:
                self._preallocate(conn)
            finally:
                self.preallocated.set()
            while True:
                if not self._stop:
                    self._wake.wait()
                    self._wake.clear()
                while not self._stop and self._writes < CHECKPOINT_AT_LATEST:
                    pause = time.monotonic() - self._last_write
                    if pause >= IDLE_S:
                        break
                    self._wake.wait(IDLE_S - pause)
                    self._wake.clear()
                if self._writes >= CHECKPOINT_EVERY or (self._stop and self._writes):
                    self._writes = 0
                    self._checkpoint(conn)
                if self._stop:
                    return
        finally:
            conn.close()

    def _preallocate(self, conn: sqlite3.Connection) -> None:
        """Write zeros after the WAL's last byte, up to :data:`WAL_PREALLOCATE` (big caches).

        It starts in the first pause of :data:`PREALLOCATE_AFTER_S` without writes after the
        open, so that it does not share the disk with the log-in's own commit.

        SQLite reads a WAL only up to its last valid frame, so zeros after it are never data.
        Each megabyte is written and synced under the write lock (no frame is appended
        meanwhile, and no save's sync has to flush these zeros), then the lock is let go.
        """
        wal = Path(f"{self._path}-wal")
        pwrite = getattr(os, "pwrite", None)  # not on Windows: no preallocation there
        datasync = getattr(os, "fdatasync", os.fsync)  # not on macOS or Windows
        if pwrite is None:
            return
        try:
            if self._path.stat().st_size < PREALLOCATE_FROM:
                return
            while not self._stop:  # not while the app starts and logs in: in the first pause
                pause = time.monotonic() - self._last_write
                if pause >= PREALLOCATE_AFTER_S:
                    break
                self._wake.wait(PREALLOCATE_AFTER_S - pause)
                self._wake.clear()
            while not self._stop:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    size = wal.stat().st_size
                    if size >= WAL_PREALLOCATE:
                        return
                    fd = os.open(wal, os.O_WRONLY)
                    try:
                        pwrite(fd, bytes(min(1 << 20, WAL_PREALLOCATE - size)), size)
                        datasync(fd)
                    finally:
                        os.close(fd)
                finally:
                    conn.execute("ROLLBACK")
        except Exception:  # best effort: without it saves only grow the WAL file now and then
            log.debug("WAL not preallocated; commits may grow it", exc_info=True)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.done += 1
        except Exception:  # the thread must go on: the next checkpoint retries
            log.debug("background checkpoint failed; the next one retries", exc_info=True)


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
        self._writer.execute("PRAGMA wal_autocheckpoint=0")  # _Checkpointer does it
        self._writer_lock = threading.Lock()
        self._checkpointer = _Checkpointer(path)
        if path.stat().st_size >= PREALLOCATE_FROM:
            self._checkpointer.start()  # the WAL is ready before the first save
        self._sync = _connect(path, synchronous="NORMAL")
        self._sync_lock = threading.Lock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._on_close: list[Callable[[float], None]] = []
        self._closed = False
        self._set_clean(False)

    def on_close(self, stop: Callable[[float], None]) -> None:
        """Have :meth:`close` call ``stop(seconds)`` first: a helper that keeps a connection of
        its own to the file (the sync's snapshot checkpoints) closes it, waiting at most that
        long, so that the cache's own connections close last and fold the WAL."""
        self._on_close.append(stop)

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
        """The outcome writer connection (``synchronous=FULL``), held exclusively.

        Each use is told to the background checkpointer once the connection is released (the
        commit that just happened never waits for it).
        """
        self._check_open()
        with self._writer_lock:
            yield self._writer
        self._checkpointer.wrote()

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

    def close(self) -> None:
        """Close every connection (idempotent).

        The checkpoint that is due runs first, but close waits for it at most
        :data:`CLOSE_WAIT_S` seconds (it is called on the GUI thread at exit): the checkpoint
        is an optimisation, every commit is already durable in the WAL, and the next open or
        checkpoint folds whatever is left into the cache file.
        """
        if self._closed:
            return
        self._closed = True
        for stop in self._on_close:
            stop(CLOSE_WAIT_S)
        self._checkpointer.stop(CLOSE_WAIT_S)
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
