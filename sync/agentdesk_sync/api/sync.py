"""Sync endpoints: ``POST /v1/sync/push``, ``GET /v1/sync/pull`` and ``GET /v1/events`` (SSE)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from agentdesk.protocol import (
    MAX_PULL_LIMIT,
    MAX_PUSH_ITEMS,
    PullResponse,
    PushRequest,
    PushResponse,
)
from agentdesk_sync import ledger, pull
from agentdesk_sync.api import openapi
from agentdesk_sync.api.wire import decode_body
from agentdesk_sync.auth import PrincipalDep
from agentdesk_sync.deps import StateDep
from agentdesk_sync.errors import ApiError
from agentdesk_sync.events import event_stream, load_portfolio

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["sync"])
_SSE = {"text/event-stream": {"schema": {"type": "string"}}}


def _encode(obj: msgspec.Struct) -> Response:
    body = msgspec.json.encode(obj, order="deterministic")
    return Response(body, media_type="application/json")


@router.post(
    "/sync/push",
    responses=openapi.answers(PushResponse, 200, 401, 413),
    openapi_extra=openapi.body(PushRequest),
)
async def push(request: Request, state: StateDep, principal: PrincipalDep) -> Response:
    """Apply outbox items in device order; per-item results, HTTP 200 even when items fail."""
    body = await decode_body(request, PushRequest, state.max_body_bytes)
    if len(body.items) > MAX_PUSH_ITEMS:
        details = {"max_items": MAX_PUSH_ITEMS, "items": len(body.items)}
        raise ApiError(413, "payload_too_large", "Too many items in one push.", details)
    return _encode(await ledger.push(state, principal, body))


@router.get("/sync/pull", responses=openapi.answers(PullResponse, 200, 400, 401, 409))
async def pull_changes(
    state: StateDep,
    principal: PrincipalDep,
    cursor: Annotated[str, Query(max_length=4096)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = MAX_PULL_LIMIT,
) -> Response:
    """Snapshot pages of the caller's scope (empty cursor), then the change feed.

    Stored rows are spliced into the answer as they are (see :mod:`agentdesk_sync.pull`).
    """
    async with state.engine.connect() as conn:
        body = await pull.pull(conn, principal, cursor, limit)
    return Response(body, media_type="application/json")


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {"description": "Server-Sent Events", "content": _SSE},
        401: openapi.answers(None, 200, 401)[401],
    },
)
async def events(state: StateDep, principal: PrincipalDep) -> StreamingResponse:
    """``event: change`` with ``{"seq"}`` whenever the caller's scope changed; heartbeats."""
    async with state.engine.connect() as conn:
        portfolio = await load_portfolio(conn, principal)
    sub = state.broadcaster.subscribe(principal, portfolio)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    stream = event_stream(state.broadcaster, sub, state.heartbeat_s)
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
