"""Health and authentication endpoints: ``/v1/health``, ``/v1/auth/login``, ``/v1/auth/logout``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import Response

from agentdesk.protocol import Health, LoginRequest, LoginResponse, UserInfo
from agentdesk_sync import __version__
from agentdesk_sync.api import openapi
from agentdesk_sync.api.wire import decode_body, iso, json_response
from agentdesk_sync.auth import (
    PrincipalDep,
    forget_token,
    issue_token,
    revoke_token,
    verify_login,
)
from agentdesk_sync.deps import SessionDep, StateDep

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["system"])
_PUBLIC: dict[str, Any] = {"security": []}


@router.get("/health", responses=openapi.answers(Health, 200, 503), openapi_extra=_PUBLIC)
async def health(state: StateDep) -> Response:
    """Liveness plus a database round trip; 503 ``unavailable`` when the database is down."""
    async with state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return json_response(Health(status="ok", db=state.dialect, version=__version__))


@router.post(
    "/auth/login",
    responses=openapi.answers(LoginResponse, 200, 401),
    openapi_extra={**openapi.body(LoginRequest), **_PUBLIC},
)
async def login(request: Request, state: StateDep, session: SessionDep) -> Response:
    """Exchange username and password for a 12-hour bearer token; 401 when wrong."""
    body = await decode_body(request, LoginRequest, 64 * 1024)
    principal = await verify_login(session, body.username, body.password)
    issued = await issue_token(session, principal, body.device_id)
    user = UserInfo(
        id=principal.user_id,
        name=principal.name,
        role=principal.role.value,
        channels=[c.value for c in principal.channels],
        regions=list(principal.regions),
    )
    answer = LoginResponse(token=issued.token, expires_at=iso(issued.expires_at) or "", user=user)
    return json_response(answer)


@router.post("/auth/logout", status_code=204, responses=openapi.answers(None, 204, 401))
async def logout(request: Request, principal: PrincipalDep, session: SessionDep) -> Response:
    """Revoke the token of this request."""
    await revoke_token(session, principal.token_hash)
    forget_token(request, principal.token_hash)
    return Response(status_code=204)
