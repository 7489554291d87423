"""Errors of the client side of sync, split by what the caller should do about them.

The tree (modelled on ``httpx/_exceptions.py``; environmental errors are split from bugs as
qutebrowser's ``KnownError``/``BugError``)::

    SyncError
    ├── Offline            connect error, timeout, connection cut: retry with backoff
    ├── ServerBusy         429 / 5xx, carries ``retry_after`` seconds when the server said so
    ├── AuthExpired        401: the token is missing, expired or revoked; log in again
    ├── Forbidden          403: outside the user's scope or role
    ├── NotFound           404: unknown customer or claim
    ├── ResetRequired      409 ``reset_required``: push the outbox, then re-snapshot
    ├── Claimed            409 ``claimed``: someone else holds the customer (``holder``)
    ├── PolicyBlocked      409 ``policy_blocked``: the contact policy forbids it (``reasons``)
    ├── LeaseLost          409 ``lease_lost``: the claim expired or was superseded
    └── ProtocolError      a bug: an answer we cannot parse, 400/422, an unexpected status

Only :class:`ProtocolError` is a bug; everything else is a condition the UI explains to the user.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthExpired",
    "Claimed",
    "Forbidden",
    "LeaseLost",
    "NotFound",
    "Offline",
    "PolicyBlocked",
    "ProtocolError",
    "ResetRequired",
    "ServerBusy",
    "SyncError",
]


class SyncError(Exception):
    """Base of every error raised by :mod:`agentdesk.sync`.

    Attributes:
        code: the machine-readable error code (the API's ``error.code`` when there was one).
        details: the API's ``error.details`` (empty when there was none).
    """

    code = "sync_error"
    retryable = False

    def __init__(self, message: str = "", *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message or self.code)
        self.details: dict[str, Any] = details or {}


class Offline(SyncError):
    """The service could not be reached, or the connection broke before an answer arrived."""

    code = "offline"
    retryable = True


class ServerBusy(SyncError):
    """The service answered 429 or 5xx; retry after ``retry_after`` seconds (None: use backoff)."""

    code = "server_busy"
    retryable = True

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class AuthExpired(SyncError):
    """401: the session token is missing, expired or revoked."""

    code = "auth_expired"


class Forbidden(SyncError):
    """403: the customer or action is outside the user's scope or role."""

    code = "forbidden"


class NotFound(SyncError):
    """404: the customer or claim does not exist."""

    code = "not_found"


class ResetRequired(SyncError):
    """409 ``reset_required``: the cursor is too old or from another epoch."""

    code = "reset_required"


class Claimed(SyncError):
    """409 ``claimed``: another user holds the customer.

    Attributes:
        holder: ``{"user_id", "channel", "lease_until", ...}`` of the current holder.
    """

    code = "claimed"

    def __init__(self, message: str = "", *, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"holder": holder or {}})
        self.holder: dict[str, Any] = holder or {}


class PolicyBlocked(SyncError):
    """409 ``policy_blocked``: the contact policy forbids contacting the customer now.

    Attributes:
        reasons: the eligibility reasons (``[{"code", "rule_id", "detail", "until"}]``).
    """

    code = "policy_blocked"

    def __init__(self, message: str = "", *, reasons: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, details={"reasons": reasons or []})
        self.reasons: list[dict[str, Any]] = reasons or []


class LeaseLost(SyncError):
    """409 ``lease_lost``: the claim expired or another user superseded it."""

    code = "lease_lost"


class ProtocolError(SyncError):
    """A bug: the answer broke the API contract, or we sent something the service refused."""

    code = "protocol_error"
