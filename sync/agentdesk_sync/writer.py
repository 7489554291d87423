"""Group commit: the service's write requests share one transaction and one ``COMMIT``.

Every write request of the hot paths (a ``POST /v1/sync/push`` batch, a claim acquire, renew or
release) hands its work to the process's :class:`GroupWriter` instead of opening a transaction
of its own. The writer takes everything that is waiting (in arrival order, at most
:data:`MAX_GROUP` requests), and in ONE worker thread, on ONE connection:

1. opens one write transaction (SQLite: ``BEGIN IMMEDIATE`` under the app's write lock);
2. runs each request's work in a ``SAVEPOINT`` of it, one after the other, so each sees what the
   requests before it in the group wrote (a contact accepted earlier counts against the next
   one's caps, a claim granted earlier is held when the next asks) exactly as if they ran
   alone and in sequence; a request that fails (a 409, a rejected item, a database error) is
   rolled back to its savepoint and does not sink the others (a group of ONE pass first runs
   without a savepoint, see :func:`_apply`);
3. commits once, then answers every request and announces the committed changes to
   ``/v1/events`` subscribers (PostgreSQL sent its ``NOTIFY`` inside the transaction; a
   rolled-back savepoint drops its own).

If the group's transaction itself fails (the commit, a lost connection) nothing of it was
written and every request of the group gets that error. Change numbers still come from the
sequencer row (docs/sync.md): the group holds its lock to its commit, so sequence order stays
commit order across groups and across service processes. On PostgreSQL a group takes that lock
first, before any row it writes, so groups of several processes queue instead of deadlocking;
the lock also reads the sequencer's value, so the group numbers its changes without asking
again (``track`` in :func:`agentdesk_sync.db.changes.lock_sequencer`). How few round trips a
group takes: docs/sync.md, "Round trips of a group".

Why: with one transaction per request, 50 concurrent writers queue on the sequencer row lock
while each lock holder also waits for the GIL, a pool connection and a worker thread, and every
request pays its own commit (an ``fsync`` on PostgreSQL). A group pays one commit for all of
them, and while it runs the next group gathers.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from agentdesk_sync.api.items import Events, item_txn
from agentdesk_sync.db.changes import lock_sequencer

if TYPE_CHECKING:
    from agentdesk_sync.deps import AppState

__all__ = ["MAX_GROUP", "MAX_MERGED", "GroupWriter", "unique_clash"]

_LOG = logging.getLogger(__name__)
MAX_GROUP = 256
MAX_MERGED = 2000  # items of merged requests that share one pass (a long pass delays the group)
Work = Callable[[Connection], Any]
Merge = Callable[[Connection, list[Any]], list[Any]]


_clock = time.monotonic  # the debug summary's clock (a test sets its own)


def unique_clash(exc: BaseException) -> bool:
    """A unique-key violation, raised through SQLAlchemy or by the driver directly."""
    return isinstance(exc, (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError))


@dataclass(slots=True)
class _Job:
    work: Work | None
    future: asyncio.Future[Any]
    rerun_on_clash: bool
    key: str = ""  # jobs in a row with the same key (and a merge) share one call of merge
    merge: Merge | None = None
    arg: Any = None
    size: int = 1
    ok: bool = False
    value: Any = None


class GroupWriter:
    """The write queue of one service process (one per :class:`~agentdesk_sync.deps.AppState`).

    There is no background task to start or stop: the first request that finds the writer idle
    starts a drain task on the running loop, which ends when the queue is empty.
    """

    def __init__(self, max_group: int = MAX_GROUP) -> None:
        self.max_group = max_group
        self._queue: deque[_Job] = deque()
        self._drain_task: asyncio.Task[None] | None = None
        self.groups = 0  # groups committed or failed (for tests and diagnostics)
        self.largest = 0  # most requests seen in one group
        self.requests = 0  # requests taken into groups
        self._tally = (0.0, 0, 0)  # (clock, groups, requests) at the last debug summary

    async def submit(self, state: AppState, work: Work, *, rerun_on_clash: bool = False) -> Any:
        """Run ``work(conn)`` in the next group's transaction and return what it returned.

        Args:
            state: The application state (engine, write lock, broadcaster).
            work: Runs in a worker thread on a connection inside the group's transaction, in a
                savepoint of its own; what it raises is raised here, after the group's commit.
            rerun_on_clash: Run ``work`` once more (in a fresh savepoint) when it hit a
                unique-key clash with a concurrent writer of another process.

        Raises:
            Exception: What ``work`` raised, or the error that stopped the group's transaction.
        """
        job = _Job(work, asyncio.get_running_loop().create_future(), rerun_on_clash)
        return await self._enqueue(state, job)

    async def submit_merged(
        self,
        state: AppState,
        key: str,
        merge: Merge,
        arg: Any,
        *,
        size: int = 1,
        rerun_on_clash: bool = False,
    ) -> Any:
        """Like :meth:`submit`, but requests of one kind that follow each other in the group
        are applied together: ``merge(conn, [arg, …])`` (the first one's ``merge``) runs once,
        in one savepoint, and returns one answer per ``arg``, in order (an exception as an
        answer is raised to that request alone).

        ``merge`` must give each request the answer it would get alone, in this order. After a
        database error in it (that left the transaction usable) its requests run again one per
        savepoint, so only the culprit gets the error. ``size`` (the request's item
        count) bounds a pass: requests of more than :data:`MAX_MERGED` items together are
        split into several passes.
        """
        loop = asyncio.get_running_loop()
        job = _Job(None, loop.create_future(), rerun_on_clash, key, merge, arg, size)
        return await self._enqueue(state, job)

    async def _enqueue(self, state: AppState, job: _Job) -> Any:
        self._queue.append(job)
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.get_running_loop().create_task(self._drain(state))
        return await job.future

    async def _drain(self, state: AppState) -> None:
        while self._queue:
            size = min(len(self._queue), self.max_group)
            jobs = [self._queue.popleft() for _ in range(size)]
            self.groups += 1
            self.requests += size
            self.largest = max(self.largest, size)
            if _LOG.isEnabledFor(logging.DEBUG):
                self._summary(_clock())
            events: Events = []
            try:
                if state.is_sqlite:
                    async with state.write_lock:
                        await anyio.to_thread.run_sync(_apply, state, jobs, events)
                else:
                    await anyio.to_thread.run_sync(_apply, state, jobs, events)
            except asyncio.CancelledError:
                for job in jobs:
                    job.future.cancel()
                raise
            except Exception as exc:  # the group did not commit: nothing of it was written
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            for seq, scopes in events:
                state.broadcaster.publish(seq, scopes)
            for job in jobs:
                if job.future.done():  # the request went away (client disconnected)
                    continue
                if job.ok:
                    job.future.set_result(job.value)
                else:
                    job.future.set_exception(job.value)

    def _summary(self, now: float) -> None:
        """Log (debug) the groups per second and their mean size, at most once a second.

        Written as a group forms, so a quiet service writes nothing (docs/operations.md).
        """
        since, groups, requests = self._tally
        if not since:
            self._tally = (now, self.groups, self.requests)
            return
        if now - since < 1.0:
            return
        n = self.groups - groups
        _LOG.debug(
            "write groups: %.1f/s, mean %.2f requests (total %d groups, %d requests, largest %d)",
            n / (now - since), (self.requests - requests) / max(n, 1), self.groups,
            self.requests, self.largest,
        )  # fmt: skip
        self._tally = (now, self.groups, self.requests)


class _Redo(Exception):
    """A group run without savepoints failed before its commit: run it again with them."""


def _apply(state: AppState, jobs: list[_Job], events: Events) -> None:
    """One group: one transaction, a savepoint per job (or run of merged jobs), one commit.

    A group that is ONE pass (one request, or merged requests that share one pass, the usual
    group under load) first runs without a savepoint: there is no other request in it to
    protect, and a savepoint costs two more statements (round trips on PostgreSQL). If that
    pass fails before the commit, the transaction is rolled back as a whole (nothing of it
    was written) and the group runs again the general way, with savepoints, so the answers are
    the same as if it had taken that way at once.
    """
    lost: list[Exception] = []
    try:
        _apply_once(state, jobs, events, lost)
    except Exception:
        if not lost:
            raise
        # the connection was dead before any of the group's work went out (a server restart):
        # run the group once more, on a new connection
        for job in jobs:
            job.value, job.ok = None, False
        _apply_once(state, jobs, events, None)


def _apply_once(
    state: AppState, jobs: list[_Job], events: Events, lost: list[Exception] | None
) -> None:
    runs = _passes(jobs)
    if len(runs) == 1:
        try:
            with item_txn(state, events) as conn:
                _lock(state, conn, lost)
                _run_bare(conn, runs[0])
            return
        except _Redo:
            for job in jobs:
                job.value, job.ok = None, False
            lost = None  # that transaction got through its BEGIN: the link was alive
    with item_txn(state, events) as conn:
        # the sequencer row first (PostgreSQL), before any customer or claim row: groups of
        # several service processes then queue here instead of deadlocking (one holds the
        # sequencer and waits for a row the other locked before it asked for the sequencer)
        _lock(state, conn, lost)
        for run in runs:
            _run(state, conn, run)


def _lock(state: AppState, conn: Connection, lost: list[Exception] | None) -> None:
    """:func:`lock_sequencer`, the group's first statement; a dead connection goes in ``lost``.

    A pooled PostgreSQL connection is pinged on checkout only after a quiet spell (see
    ``db/engine.py``), so after a server restart or failover the first group of a busy service
    meets a dead connection here, before any of its work was sent. With ``lost`` given, the
    error is noted there (the caller then runs the group again) and every connection the pool
    held before now is marked for replacement at its next checkout (the restart closed them
    all). The error is raised either way, so the transaction is rolled back as usual.
    """
    try:
        lock_sequencer(conn, track=True)
    except Exception as exc:
        if lost is not None and _disconnected(conn, exc):
            _LOG.warning("write group: the database connection was lost, reconnecting: %s", exc)
            state.sync_engine.pool._invalidate(conn.connection, exc, _checkin=False)
            lost.append(exc)
        raise


def _disconnected(conn: Connection, exc: Exception) -> bool:
    """Whether ``exc`` (raised by the driver or through SQLAlchemy) means the link is gone."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated
    dialect = conn.dialect
    if not isinstance(exc, dialect.loaded_dbapi.Error):
        return False
    return bool(dialect.is_disconnect(exc, conn.connection.driver_connection, None))


def _passes(jobs: list[_Job]) -> list[list[_Job]]:
    """The group's jobs cut into passes: a job alone, or a run of merged jobs of one key."""
    runs: list[list[_Job]] = []
    i = 0
    while i < len(jobs):
        first, end = jobs[i], i + 1
        if first.merge is not None:
            items = first.size
            while end < len(jobs) and jobs[end].merge and jobs[end].key == first.key:
                items += jobs[end].size
                if items > MAX_MERGED:
                    break
                end += 1
        runs.append(jobs[i:end])
        i = end
    return runs


def _run_bare(conn: Connection, jobs: list[_Job]) -> None:
    """The group's only pass, straight in the group's transaction (no savepoint).

    Any exception raised (a job's own error included: without a savepoint its partial writes
    could not be undone alone) becomes :class:`_Redo`, which rolls the whole transaction back.
    An exception *returned* as a merged request's answer is that request's answer: it wrote
    nothing (see :meth:`GroupWriter.submit_merged`).
    """
    first = jobs[0]
    try:
        if first.merge is not None:
            values = first.merge(conn, [job.arg for job in jobs])
        else:
            assert first.work is not None
            values = [first.work(conn)]
    except Exception as exc:
        _LOG.debug("write group: the pass failed, running it again with savepoints: %s", exc)
        raise _Redo from exc
    for job, value in zip(jobs, values, strict=True):
        job.value, job.ok = value, not isinstance(value, Exception)


def _run(state: AppState, conn: Connection, jobs: list[_Job]) -> None:
    """One job, or a run of merged ones, in a savepoint of the group's transaction.

    When a merged pass fails with a database error that left the transaction usable, its
    requests run again one per savepoint, so only the request that caused it gets the error.
    """
    first = jobs[0]
    for attempt in range(2):
        try:
            with item_txn(state, [], outer=conn) as inner:
                if first.merge is not None:
                    values = first.merge(inner, [job.arg for job in jobs])
                else:
                    assert first.work is not None
                    values = [first.work(inner)]
            for job, value in zip(jobs, values, strict=True):
                job.value, job.ok = value, not isinstance(value, Exception)
            return
        except Exception as exc:
            if _broken(state, conn, exc):
                raise  # the group's transaction cannot go on: every job gets this error
            if first.rerun_on_clash and not attempt and unique_clash(exc):
                _LOG.info("write group: unique-key clash, running the request again: %s", exc)
                continue
            if len(jobs) > 1:
                _LOG.info("write group: merged pass failed, one request at a time: %s", exc)
                for job in jobs:
                    _run(state, conn, [job])
                return
            for job in jobs:
                job.value, job.ok = exc, False
            return


def _broken(state: AppState, conn: Connection, exc: Exception) -> bool:
    """Whether a database error left the group's transaction unusable.

    A lost connection, or (SQLite) a transaction the engine rolled back as a whole: after
    ``SQLITE_FULL``, ``SQLITE_IOERR`` or ``SQLITE_NOMEM`` SQLite may end the transaction while
    the connection still answers, and the next savepoint would silently open a new one, so the
    requests before the failure, already run, would be answered but never stored. On
    PostgreSQL the same holds for a transaction that is no longer open (or is aborted).
    """
    if not isinstance(exc, (DBAPIError, sqlite3.Error, psycopg.Error)):
        return False
    if conn.invalidated or conn.closed:
        return True
    try:
        driver: Any = conn.connection.driver_connection
    except Exception:
        return True
    if driver is None:
        return True
    if state.is_sqlite:
        return not driver.in_transaction
    if driver.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        return True  # ended (the next statement would silently open a new one) or failed
    try:
        conn.exec_driver_sql("SELECT 1")
    except Exception:
        return True
    return False
