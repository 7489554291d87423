"""The sync engine's view of the local cache: :mod:`agentdesk.store` functions on the sync
thread's own writer connection (``CacheDB.sync_writer()``).

Also repairs what a crash can leave behind, at the start of every cycle: items sent but never
answered go back to ``pending`` (resending is safe: the server dedupes by id), and a snapshot
interrupted in bulk mode gets its indexes back when the snapshot finishes.

Snapshot pages are committed in groups (docs/sync.md, first sync): a transaction stays open
over up to :data:`SNAPSHOT_GROUP_PAGES` pages or :data:`SNAPSHOT_GROUP_SECONDS`, each page
storing its own cursor in it. Any other call of the store commits the open group first, and
so does :meth:`CacheSyncStore.flush` (the engine calls it before it waits for a page that is
still downloading, and whenever a pull ends, however it ends): the group never holds the write
lock while the engine waits on the network.

During a snapshot the sync writer's commits do not checkpoint the WAL themselves: a thread of
:class:`_SnapshotCheckpoints` folds it into the cache file after each group's commit (its
``fsync`` waits for the disk off the sync thread; docs/sync.md, "Checkpoints off the sync
thread").
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, cast

from agentdesk.protocol import Change, PushResult
from agentdesk.protocol.raw import RawChange, RawPushItem
from agentdesk.store import CacheDB, outbox_sync
from agentdesk.store import apply as store_apply
from agentdesk.store.bulk import in_bulk_mode
from agentdesk.store.errors import map_sqlite_error
from agentdesk.store.outbox_sync import OutboxCounts
from agentdesk.sync.crashpoints import CrashHook, crash_hook_from_env

__all__ = ["SNAPSHOT_GROUP_PAGES", "SNAPSHOT_GROUP_SECONDS", "CacheSyncStore"]

log = logging.getLogger(__name__)

SNAPSHOT_GROUP_PAGES = 16
# How long a snapshot keeps the write lock at most (plus applying one page; never while waiting
# on the network): an outcome saved meanwhile waits for the commit (well within the writer's 5 s
# busy timeout), and only during a snapshot.
SNAPSHOT_GROUP_SECONDS = 2.0


class CacheSyncStore:
    """Adapter from :class:`agentdesk.store.CacheDB` to the engine's ``SyncStore`` protocol.

    Args:
        db: the open cache.
        crash_hook: test-only crash points (read from the environment by default).
    """

    def __init__(self, db: CacheDB, *, crash_hook: CrashHook | None = None) -> None:
        self.db = db
        self._crash = crash_hook if crash_hook is not None else crash_hook_from_env()
        self._snapshotting = False  # begin_snapshot ran on this store's connection
        self._group_pages = 0  # snapshot pages in the open transaction
        self._group_started = 0.0
        self._checkpoints = _SnapshotCheckpoints(db.path)
        db.on_close(self._checkpoints.close)

    def prepare(self) -> None:
        """Before a cycle: requeue items sent but never answered (a crash, a cut connection)."""
        self.requeue_unanswered()

    def requeue_unanswered(self) -> None:
        """Items marked in flight without an answer go back to ``pending``."""
        with self.db.sync_writer() as conn:
            self._commit_group(conn)
            outbox_sync.requeue_inflight(conn)

    def take_batch(self, max_items: int, max_bytes: int) -> Sequence[RawPushItem]:
        """Pending items in ``client_seq`` order within both limits, marked as sent."""
        with self.db.sync_writer() as conn:
            self._commit_group(conn)
            return outbox_sync.take_batch(conn, max_items, max_bytes)

    def apply_push_results(self, results: Sequence[PushResult]) -> None:
        """Record per-item push results in one transaction."""
        with self.db.sync_writer() as conn:
            self._commit_group(conn)
            outbox_sync.apply_push_results(conn, results)

    def sync_cursor(self) -> str:
        """The persisted pull cursor (empty before the first page)."""
        with self.db.sync_writer() as conn:
            self._commit_group(conn)
            position = store_apply.sync_position(conn)
        return position.cursor if position else ""

    def apply_changes(
        self,
        changes: Sequence[Change | RawChange],
        cursor: str,
        *,
        up_to_date: bool,
        snapshot: bool,
    ) -> None:
        """Apply one page with its cursor; a snapshot page may share its transaction with the
        pages before it (bulk mode during a snapshot)."""
        point = "mid_snapshot_page" if snapshot else "mid_delta_apply"
        with self.db.sync_writer() as conn:
            if not snapshot:
                self._commit_group(conn)
                finished = in_bulk_mode(conn)
                try:
                    if finished:
                        store_apply.finish_snapshot(conn)
                        self._snapshotting = False
                        # its rebuilt indexes and this page go to the checkpoint thread too
                        # (its last one); from the next commit on, this connection checkpoints
                        # again (also when the finish failed: the next cycle finishes it)
                        conn.execute("PRAGMA wal_autocheckpoint = 0")
                    with self._crashing(conn, point) as target:
                        store_apply.apply_changes(target, changes, cursor, up_to_date)
                finally:
                    if finished:
                        conn.execute(
                            f"PRAGMA wal_autocheckpoint = {store_apply.DEFAULT_CHECKPOINT_PAGES}"
                        )
                        self._checkpoints.poke()
                return
            starting = not self._snapshotting
            if starting:  # also when resuming one a crash cut short
                store_apply.begin_snapshot(conn)
                conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpoint thread does it
                self._snapshotting = True
            self._apply_grouped(conn, changes, cursor, up_to_date, point)
            if starting:  # its first page brings the rules, campaigns and offers: committed at
                self._commit_group(conn)  # once, the customer view has them while it fills

    def flush(self) -> None:
        """Commit the snapshot pages applied in the open transaction, if any."""
        with self.db.sync_writer() as conn:
            self._commit_group(conn)

    def _apply_grouped(
        self,
        conn: sqlite3.Connection,
        changes: Sequence[Change | RawChange],
        cursor: str,
        up_to_date: bool,
        point: str,
    ) -> None:
        try:
            if not conn.in_transaction:
                if self._checkpoints.frames > _WAL_CAP_FRAMES:
                    self._checkpoints.catch_up()
                conn.execute("BEGIN IMMEDIATE")
                self._group_pages, self._group_started = 0, time.monotonic()
            with self._crashing(conn, point) as target:
                store_apply.apply_page(target, changes, cursor, up_to_date)
        except BaseException as exc:
            self._rollback_group(conn)
            if isinstance(exc, sqlite3.Error):
                raise map_sqlite_error(exc) from exc
            raise
        self._group_pages += 1
        full = self._group_pages >= SNAPSHOT_GROUP_PAGES
        if full or time.monotonic() - self._group_started >= SNAPSHOT_GROUP_SECONDS:
            self._commit_group(conn)

    def _commit_group(self, conn: sqlite3.Connection) -> None:
        if not conn.in_transaction:
            return
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback_group(conn)
            raise map_sqlite_error(exc) from exc
        self._group_pages = 0
        if self._snapshotting:
            self._checkpoints.poke()

    def _rollback_group(self, conn: sqlite3.Connection) -> None:
        """The whole group goes (its cursors too): the next pull downloads it again."""
        self._group_pages = 0
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    def reset_cache(self) -> None:
        """Drop the cache and the cursor; the outbox stays. The snapshot that follows starts as
        a first one (its first page, with the rules and offers, committed on its own)."""
        with self.db.sync_writer() as conn:
            self._commit_group(conn)
            store_apply.reset_cache(conn)
            self._snapshotting = False

    def counts(self) -> OutboxCounts:
        """Waiting items, open conflicts, open rejections."""
        with self.db.sync_writer() as conn:
            self._commit_group(conn)
            return outbox_sync.counts(conn)

    @contextmanager
    def _crashing(self, conn: sqlite3.Connection, point: str) -> Iterator[sqlite3.Connection]:
        if self._crash is None:
            yield conn
        else:
            yield cast("sqlite3.Connection", _CrashingConnection(conn, self._crash, point))


_CHECKPOINT_IDLE_S = 5.0  # the checkpoint thread ends after this long without a commit
# WAL frames after which a snapshot group waits for the checkpoint of the commits before it, so
# that the writer can start the WAL over (256 MB of 8 KB pages): the WAL stays that small.
_WAL_CAP_FRAMES = 32768


class _SnapshotCheckpoints:
    """Folds the WAL into the cache file on a thread and connection of its own, during a
    snapshot (whose writer has ``wal_autocheckpoint=0``).

    :meth:`poke` (after each commit of a group) never waits: the thread runs one ``PASSIVE``
    checkpoint per poke, which copies the committed pages no reader still needs and never
    blocks the writer; the writer starts the WAL over once a checkpoint has caught up with it.
    A checkpoint's ``fsync`` of the WAL and of the cache file waits for the disk, on this thread
    instead of the sync thread; the sync thread meanwhile goes on with the next pages. The
    thread ends by itself after :data:`_CHECKPOINT_IDLE_S` without a poke (and starts again on
    the next one), so no connection stays open for a store that is no longer used. A failed
    checkpoint is retried at the next poke; whatever is left in the WAL is folded by the next
    checkpoint of any connection (SQLite keeps a WAL consistent whoever checkpoints it).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._asked = 0  # pokes so far
        self._answered = 0  # pokes a finished checkpoint (or a failed one) covered
        self.frames = 0  # WAL frames the last checkpoint found (0 once the WAL started over)
        self.done = 0  # checkpoints run (tests read it)
        self._closing = False

    def poke(self) -> None:
        """Ask for a checkpoint of what has been committed so far."""
        with self._lock:
            self._asked += 1
            self._wake.set()
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(
                    target=self._run, name="sync-checkpoint", daemon=True
                )
                self._thread.start()

    def catch_up(self) -> None:
        """Wait until a checkpoint has covered every commit poked so far.

        The writer starts the WAL over only in a transaction that began with the WAL wholly
        checkpointed, which never happens while the checkpoint of the last commit runs beside
        the next group; so when the WAL has grown past :data:`_WAL_CAP_FRAMES`, the sync
        thread waits for that checkpoint before it opens the next group (often it is done)."""
        with self._lock:
            while self._answered < self._asked and self._thread is not None:
                self._lock.wait()
            self.frames = 0  # the next commit starts the WAL over, unless a reader holds it

    def close(self, wait_s: float) -> None:
        """The cache is closing: end the thread and close its connection (a checkpoint under
        way finishes first; wait for it at most ``wait_s`` seconds). Pokes start no thread
        after this; the cache's own last connection folds what is left of the WAL."""
        with self._lock:
            self._closing = True
            thread = self._thread
            self._wake.set()
            self._lock.notify_all()
        if thread is not None:
            thread.join(wait_s)

    def join(self) -> None:
        """Wait until the thread has ended (tests: after its last checkpoint and idle time)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        try:
            self._loop()
        finally:  # however the thread ends, a poke starts a new one and nobody waits for it
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
                self._lock.notify_all()

    def _loop(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            log.warning("no snapshot checkpoint connection; the WAL is folded later")
            return
        try:
            conn.execute("PRAGMA synchronous = NORMAL")  # what the sync writer commits with
            while True:
                if not self._wake.wait(_CHECKPOINT_IDLE_S):
                    with self._lock:
                        if not self._wake.is_set():  # idle: end (a later poke starts anew)
                            self._thread = None
                            return
                with self._lock:
                    if self._closing:
                        return
                    self._wake.clear()
                    asked = self._asked
                try:
                    _busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.frames = int(frames)
                    self.done += 1
                except sqlite3.Error:
                    log.debug("snapshot checkpoint failed; the next one retries", exc_info=True)
                with self._lock:
                    self._answered = asked
                    self._lock.notify_all()
        except sqlite3.Error:
            log.debug("snapshot checkpoint thread ended; the next commit starts it", exc_info=True)
        finally:
            conn.close()


class _CrashingConnection:
    """Test-only: calls the crash hook after the first ``executemany``, inside the transaction."""

    def __init__(self, conn: sqlite3.Connection, hook: CrashHook, point: str) -> None:
        self._conn = conn
        self._hook = hook
        self._point = point

    def executemany(self, sql: str, params: Any) -> sqlite3.Cursor:
        cursor = self._conn.executemany(sql, params)
        self._hook(self._point)
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)
