"""The CPU-heavy reads, as plain functions that run in a worker PROCESS.

Opening a customer (policy + recommendations + call-back slots) and ranking a call list are
pure-Python work of 20–150 ms. Run on a thread, they hold the GIL and starve the GUI thread
(every paint re-acquires the GIL for each Python callback): the window stutters for 100–300 ms.
Run in a separate process they use the second core and the GUI thread never waits.

Every function takes only picklable arguments (the cache path and the frozen session) and
returns frozen DTOs. The worker process keeps one read-only view of each cache file it was asked
about (see :class:`_Caches`); nothing is written from here.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentdesk.domain import Channel
from agentdesk.services.customer import CustomerService
from agentdesk.services.dto import (
    CallListEntry,
    CustomerScreen,
    SupervisorStats,
    UserSession,
    VisitEntry,
)
from agentdesk.services.queues import CallListService, SupervisorService, VisitPlanService

__all__ = ["call_list", "open_customer", "supervisor_stats", "visit_plan", "warm_up"]


class ReadOnlyCache:
    """What the services need of a ``CacheDB`` (``reader()``), over one read-only connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.execute("PRAGMA query_only=1")

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """The read-only connection, in one read transaction (a consistent snapshot)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("ROLLBACK")


class _Caches:
    """Per-process services, one set per (cache file, user); built on first use."""

    def __init__(self) -> None:
        self._by_key: dict[
            tuple[str, str],
            tuple[CustomerService, CallListService, VisitPlanService, SupervisorService],
        ] = {}

    def get(
        self, session: UserSession
    ) -> tuple[CustomerService, CallListService, VisitPlanService, SupervisorService]:
        key = (str(session.cache_path), session.user.user_id)
        if key not in self._by_key:
            db = ReadOnlyCache(session.cache_path)
            self._by_key[key] = (
                CustomerService(db, session, None),  # type: ignore[arg-type]
                CallListService(db, session),  # type: ignore[arg-type]
                VisitPlanService(db, session),  # type: ignore[arg-type]
                SupervisorService(db, session),  # type: ignore[arg-type]
            )
        return self._by_key[key]


# The worker process's services: process-local state, like a thread-local (never in the GUI).
_CACHES = _Caches()


def warm_up() -> bool:
    """Import everything in the worker process before the first real request."""
    return True


def open_customer(
    session: UserSession,
    customer_id: str,
    channel: Channel | None,
    live_first: bool = False,
    view: dict[str, Any] | None = None,
) -> CustomerScreen:
    """:meth:`CustomerService.open` in the worker process (which has no connection: while
    the cache fills, ``live_first`` raises ``CacheFilling`` and the caller fetches ``view``)."""
    return _CACHES.get(session)[0].open(customer_id, channel, view=view, live_first=live_first)


def call_list(session: UserSession) -> list[CallListEntry]:
    """:meth:`CallListService.entries` in the worker process."""
    return _CACHES.get(session)[1].entries()


def visit_plan(session: UserSession) -> tuple[list[VisitEntry], list[VisitEntry]]:
    """Today's visits and the portfolio, in the worker process."""
    visits = _CACHES.get(session)[2]
    return visits.today(), visits.portfolio()


def supervisor_stats(session: UserSession) -> SupervisorStats:
    """:meth:`SupervisorService.stats` in the worker process."""
    return _CACHES.get(session)[3].stats()
