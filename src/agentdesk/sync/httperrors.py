"""Map an HTTP error answer of API v1 to an :mod:`agentdesk.sync.errors` error, by kind."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from agentdesk.protocol import ErrorResponse
from agentdesk.sync.errors import (
    AuthExpired,
    Claimed,
    Forbidden,
    LeaseLost,
    NotFound,
    PolicyBlocked,
    ProtocolError,
    ResetRequired,
    ServerBusy,
    SyncError,
)

__all__ = ["error_for_response", "retry_after_seconds"]


def error_for_response(resp: httpx.Response) -> SyncError:
    """The error that an answer with status ≥ 400 stands for.

    Args:
        resp: a read response.

    Returns:
        The matching error; ``ProtocolError`` for statuses that mean we sent a bad request.
    """
    code, message, details = _error_body(resp)
    status = resp.status_code
    if status == 401:
        return AuthExpired(message, details=details)
    if status == 403:
        return Forbidden(message, details=details)
    if status == 404:
        return NotFound(message, details=details)
    if status == 409:
        return _conflict(code, message, details)
    if status == 429 or status >= 500:
        return ServerBusy(message, retry_after=retry_after_seconds(resp), details=details)
    return ProtocolError(f"HTTP {status} {code}: {message}", details=details)


def retry_after_seconds(resp: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (only the delta-seconds form), or None."""
    value = resp.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _conflict(code: str, message: str, details: dict[str, Any]) -> SyncError:
    if code == "reset_required":
        return ResetRequired(message, details=details)
    if code == "claimed":
        return Claimed(message, holder=details.get("holder") or {})
    if code == "policy_blocked":
        return PolicyBlocked(message, reasons=details.get("reasons") or [])
    if code == "lease_lost":
        return LeaseLost(message, details=details)
    return ProtocolError(f"HTTP 409 {code}: {message}", details=details)


def _error_body(resp: httpx.Response) -> tuple[str, str, dict[str, Any]]:
    try:
        body = msgspec.json.decode(resp.content, type=ErrorResponse)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "", resp.text[:200], {}
    return body.error.code, body.error.message, body.error.details
