"""Per-application state and the FastAPI dependencies built on it.

One :class:`AppState` lives on ``app.state.agentdesk``: the async engine, the session factory,
the database dialect, the group writer of the hot write paths, a write lock for the embedded
SQLite (one writer at a time), the change broadcaster for ``/v1/events`` and a small cache of
the current rule set. No module globals.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from agentdesk_sync.events import Broadcaster
    from agentdesk_sync.writer import GroupWriter

__all__ = ["AppState", "SessionDep", "StateDep", "get_session", "get_state"]


@dataclass
class AppState:
    """Everything a request handler needs besides the request.

    Attributes:
        engine: The async engine of the central store.
        sync_engine: A synchronous engine for the push pipeline (run in worker threads).
        sessions: ``async_sessionmaker(engine, expire_on_commit=False)``.
        dialect: ``"postgresql"`` or ``"sqlite"``.
        db_url: The database URL the app was built with.
        broadcaster: Fan-out of change notifications to ``/v1/events`` subscribers.
        writer: Group commit of the push and claim writes (:mod:`agentdesk_sync.writer`).
        write_lock: Serialises write transactions on SQLite (a no-op need on PostgreSQL).
        rules_cache: ``(version, RuleSet)`` of the last loaded rule set.
        rules_checked_at: ``time.monotonic()`` when the newest rule-set version was last read
            (see :func:`agentdesk_sync.api.loaders.rules_now`).
        max_body_bytes: Request bodies above this size get 413.
        heartbeat_s: Seconds between SSE heartbeat comments.
        tasks: Background tasks (the PostgreSQL change listener).
        token_cache: SHA-256 of a bearer token -> (monotonic time it is dropped, principal, token
            expiry); see :func:`agentdesk_sync.auth.current_principal`.
    """

    engine: AsyncEngine
    sync_engine: Engine
    sessions: async_sessionmaker[AsyncSession]
    dialect: str
    db_url: str
    broadcaster: Broadcaster
    writer: GroupWriter
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    rules_cache: tuple[int, Any] | None = None
    rules_checked_at: float = 0.0
    max_body_bytes: int = 2 * 1024 * 1024
    heartbeat_s: float = 15.0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    token_cache: dict[str, tuple[float, Any, Any]] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite store."""
        return self.dialect == "sqlite"


def get_state(request: Request) -> AppState:
    """The :class:`AppState` of the running app."""
    state: AppState = request.app.state.agentdesk
    return state


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for one request, closed afterwards (commit is the handler's job)."""
    async with get_state(request).sessions() as session:
        yield session


async def _state_dependency(request: Request) -> AppState:
    """:func:`get_state` as a dependency: ``async`` so FastAPI calls it on the event loop (a
    plain ``def`` dependency costs a worker-thread round trip on every request)."""
    return get_state(request)


StateDep = Annotated[AppState, Depends(_state_dependency)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
