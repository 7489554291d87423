"""Claim endpoints: ``POST /v1/claims``, ``POST …/{id}/renew``, ``DELETE /v1/claims/{id}``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from agentdesk.protocol import ClaimRequest, ClaimResponse, RenewRequest
from agentdesk_sync import claims
from agentdesk_sync.api import openapi
from agentdesk_sync.api.wire import decode_body, json_response
from agentdesk_sync.auth import PrincipalDep
from agentdesk_sync.deps import StateDep

__all__ = ["router"]

router = APIRouter(prefix="/v1/claims", tags=["claims"])
_BODY_LIMIT = 16 * 1024


def _answers(*errors: int) -> dict[int | str, dict[str, object]]:
    out = openapi.answers(ClaimResponse, 201, *errors)
    out[200] = {
        "description": "Already held by you",
        "content": {"application/json": {"schema": openapi.ref(ClaimResponse)}},
    }
    return out  # type: ignore[return-value]


@router.post(
    "",
    status_code=201,
    responses=_answers(401, 403, 404, 409),
    openapi_extra=openapi.body(ClaimRequest),
)
async def acquire(request: Request, state: StateDep, principal: PrincipalDep) -> Response:
    """Claim a customer: 201 new claim, 200 the caller's own claim again, 409 held or blocked."""
    body = await decode_body(request, ClaimRequest, _BODY_LIMIT)
    granted = await claims.acquire(state, principal, body)
    return json_response(granted.response, 201 if granted.created else 200)


@router.post(
    "/{claim_id}/renew",
    responses=openapi.answers(ClaimResponse, 200, 401, 403, 409),
    openapi_extra=openapi.body(RenewRequest),
)
async def renew(
    claim_id: str, request: Request, state: StateDep, principal: PrincipalDep
) -> Response:
    """Extend the caller's claim (same fence); 409 ``lease_lost`` when expired or superseded."""
    body = await decode_body(request, RenewRequest, _BODY_LIMIT)
    return json_response(await claims.renew(state, principal, claim_id, body.ttl_s))


@router.delete("/{claim_id}", status_code=204, responses=openapi.answers(None, 204, 401, 403))
async def release(claim_id: str, state: StateDep, principal: PrincipalDep) -> Response:
    """Release the caller's claim (idempotent)."""
    await claims.release(state, principal, claim_id)
    return Response(status_code=204)
