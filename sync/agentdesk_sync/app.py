"""The FastAPI application of the central service (API v1, docs/api.md).

``create_app(db_url)`` builds everything from the URL and keeps it on ``app.state.agentdesk``
(no module globals). The schema must exist (``agentdesk_sync.db.engine.migrate``; the server
runs it before starting). On PostgreSQL a background task relays change notifications to the
``/v1/events`` subscribers of this process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.types import ASGIApp

from agentdesk_sync import __version__
from agentdesk_sync.api import openapi
from agentdesk_sync.api.claims import router as claims_router
from agentdesk_sync.api.customers import router as customers_router
from agentdesk_sync.api.fastpath import FastPath
from agentdesk_sync.api.items import NOTIFY_CHANNEL
from agentdesk_sync.api.sync import router as sync_router
from agentdesk_sync.api.system import router as system_router
from agentdesk_sync.db.changes import track_sequencer
from agentdesk_sync.db.checkpoint import WalCheckpointer
from agentdesk_sync.db.engine import (
    db_kind,
    make_async_engine,
    make_engine,
    resolve_db_url,
    sqlite_path,
)
from agentdesk_sync.deps import AppState
from agentdesk_sync.errors import install_handlers
from agentdesk_sync.events import Broadcaster, listen_postgres, stop_task
from agentdesk_sync.writer import GroupWriter

__all__ = ["create_app"]

_DESCRIPTION = (
    "Central shared-data service of agentdesk: unified customer view, contact ledger, "
    'claims and the change feed. Errors: {"error": {"code", "message", "details"}}.'
)


class _App(FastAPI):
    """The service's FastAPI app: :class:`FastPath` on top of its middleware stack."""

    def build_middleware_stack(self) -> ASGIApp:
        return FastPath(self, super().build_middleware_stack())


def create_app(db_url: str, *, pool_size: int = 10, heartbeat_s: float = 15.0) -> FastAPI:
    """Build the API v1 application for the central store at ``db_url``.

    Args:
        db_url: ``sqlite:///PATH`` or ``postgresql+psycopg://…`` (see ``resolve_db_url``).
        pool_size: Connections kept in the PostgreSQL pool.
        heartbeat_s: Seconds between SSE heartbeat comments.

    Returns:
        The application; its lifespan starts and stops the change listener and the engine.
    """
    url = resolve_db_url(db_url)
    kind = db_kind(url)
    options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": pool_size}
    checkpointer = None
    if kind == "sqlite":  # the WAL is checkpointed off the commit path (db/checkpoint.py)
        path = sqlite_path(url)
        checkpointer = WalCheckpointer(path) if path is not None else None
        options = {}
        if checkpointer is not None:  # while it is not running, commits checkpoint themselves
            options["sqlite_checkpoints"] = lambda: not checkpointer.active
    engine = make_async_engine(url, **options)
    sync_engine = make_engine(url, **options)
    track_sequencer(sync_engine)  # write groups know their change numbers without asking
    state = AppState(
        engine=engine,
        sync_engine=sync_engine,
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        dialect=kind,
        db_url=url,
        broadcaster=Broadcaster(),
        writer=GroupWriter(),
        heartbeat_s=heartbeat_s,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if checkpointer is not None:
            checkpointer.start()
        if kind == "postgresql":
            task = asyncio.create_task(listen_postgres(url, NOTIFY_CHANNEL, state.broadcaster))
            state.tasks.append(task)
        try:
            yield
        finally:
            for task in state.tasks:
                await stop_task(task)
            state.tasks.clear()
            await engine.dispose()
            state.sync_engine.dispose()
            if checkpointer is not None:
                await asyncio.to_thread(checkpointer.stop)

    app = _App(
        title="agentdesk-sync",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.agentdesk = state
    install_handlers(app)
    for router in (system_router, customers_router, claims_router, sync_router):
        app.include_router(router)
    openapi.install(app)
    return app
