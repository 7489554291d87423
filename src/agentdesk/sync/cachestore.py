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
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
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
                if in_bulk_mode(conn):
                    store_apply.finish_snapshot(conn)
                    self._snapshotting = False
                with self._crashing(conn, point) as target:
                    store_apply.apply_changes(target, changes, cursor, up_to_date)
                return
            if not self._snapshotting:  # also when resuming one a crash cut short
                store_apply.begin_snapshot(conn)
                self._snapshotting = True
            self._apply_grouped(conn, changes, cursor, up_to_date, point)

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

    def _rollback_group(self, conn: sqlite3.Connection) -> None:
        """The whole group goes (its cursors too): the next pull downloads it again."""
        self._group_pages = 0
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    def reset_cache(self) -> None:
        """Drop the cache and the cursor; the outbox stays."""
        with self.db.sync_writer() as conn:
            self._commit_group(conn)
            store_apply.reset_cache(conn)

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
