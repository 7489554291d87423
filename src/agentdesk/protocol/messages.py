"""Wire DTOs of the pinned HTTP API v1 (docs/api.md), shared by client and service.

Every request and response body is a ``msgspec.Struct``; domain rows travel as the
``msgspec.to_builtins`` form of the domain dataclasses (see :mod:`agentdesk.protocol.rows`).
Field names here are pinned: other programs are written against them.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "API_VERSION",
    "MAX_PULL_LIMIT",
    "MAX_PUSH_ITEMS",
    "PUSH_KINDS",
    "Budget",
    "Change",
    "ClaimHolder",
    "ClaimRequest",
    "ClaimResponse",
    "Conflict",
    "ConflictOther",
    "CustomerList",
    "Eligibility",
    "ErrorBody",
    "ErrorResponse",
    "Health",
    "ItemError",
    "LoginRequest",
    "LoginResponse",
    "PullResponse",
    "PushItem",
    "PushRequest",
    "PushResponse",
    "PushResult",
    "Reason",
    "Recommendation",
    "Recommendations",
    "RenewRequest",
    "Suppressed",
    "UserInfo",
]

API_VERSION = "v1"
MAX_PUSH_ITEMS = 500
MAX_PULL_LIMIT = 10_000
PUSH_KINDS = ("contact", "reaction", "callback", "visit_plan", "feedback")

PushStatus = Literal["applied", "duplicate", "applied_with_conflict", "rejected", "retry"]
Outcome = Literal["allowed", "deferred", "blocked"]


class ErrorBody(msgspec.Struct, kw_only=True):
    """The pinned error object: ``{"code", "message", "details"}``."""

    code: str
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class ErrorResponse(msgspec.Struct, kw_only=True):
    """Every error response: ``{"error": {...}}``."""

    error: ErrorBody


class Health(msgspec.Struct, kw_only=True):
    """``GET /v1/health``."""

    status: str
    db: str
    version: str


class LoginRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /v1/auth/login`` body."""

    username: str
    password: str
    device_id: str


class UserInfo(msgspec.Struct, kw_only=True):
    """The user block of a login answer."""

    id: str
    name: str
    role: str
    channels: list[str]
    regions: list[str]


class LoginResponse(msgspec.Struct, kw_only=True):
    """``POST /v1/auth/login`` answer."""

    token: str
    expires_at: str
    user: UserInfo


class CustomerList(msgspec.Struct, kw_only=True):
    """``GET /v1/customers?msisdn=|q=`` answer."""

    items: list[dict[str, Any]]
    total: int


class Reason(msgspec.Struct, kw_only=True):
    """One machine-readable reason of a policy decision or recommendation."""

    code: str
    rule_id: str | None = None
    detail: dict[str, Any] = msgspec.field(default_factory=dict)
    until: str | None = None


class Budget(msgspec.Struct, kw_only=True):
    """Remaining marketing-contact budget for the tightest window."""

    window: str
    limit: int
    used: int
    remaining: int


class Eligibility(msgspec.Struct, kw_only=True):
    """``GET /v1/customers/{id}/eligibility`` answer."""

    allowed: bool
    outcome: Outcome
    deferred_until: str | None
    reasons: list[Reason]
    budget: Budget | None = None


class Recommendation(msgspec.Struct, kw_only=True):
    """One ranked offer."""

    offer_id: str
    campaign_id: str
    title: str
    score: float
    reasons: list[Reason]
    script: str
    valid_until: str | None


class Suppressed(msgspec.Struct, kw_only=True):
    """An offer the engine did not recommend, and why."""

    offer_id: str
    reasons: list[Reason]


class Recommendations(msgspec.Struct, kw_only=True):
    """``GET /v1/customers/{id}/recommendations`` answer."""

    items: list[Recommendation]
    suppressed: list[Suppressed]


class ClaimRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /v1/claims`` body."""

    customer_id: str
    channel: str
    purpose: str = "contact"
    ttl_s: int = 900


class RenewRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /v1/claims/{id}/renew`` body."""

    ttl_s: int = 900


class ClaimResponse(msgspec.Struct, kw_only=True):
    """A granted or renewed claim."""

    claim_id: str
    fence: int
    lease_until: str
    server_now: str
    budget: Budget | None = None


class ClaimHolder(msgspec.Struct, kw_only=True):
    """``details.holder`` of a 409 ``claimed``."""

    user_id: str
    channel: str
    lease_until: str
    name: str | None = None


class PushItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One outbox item. ``id`` is the client UUIDv7 and the idempotency key."""

    id: str
    seq: int
    kind: str
    schema: int
    payload: dict[str, Any]
    claim_id: str | None = None
    fence: int | None = None


class PushRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /v1/sync/push`` body (≤ 500 items)."""

    device_id: str
    items: list[PushItem]


class ConflictOther(msgspec.Struct, kw_only=True):
    """Who else touched the customer, for a conflict."""

    channel: str | None = None
    agent_id: str | None = None
    claim_until: str | None = None
    contact_ids: list[str] = msgspec.field(default_factory=list)


class Conflict(msgspec.Struct, kw_only=True):
    """Why an applied contact broke policy (docs/sync.md)."""

    type: str
    rule_id: str | None = None
    limit: str | None = None
    count_after: int | None = None
    other: ConflictOther | None = None
    server_time: str | None = None
    reasons: list[Reason] = msgspec.field(default_factory=list)


class ItemError(msgspec.Struct, kw_only=True):
    """Why an item was rejected or must be retried."""

    code: str
    message: str = ""
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    retry_after_ms: int | None = None


class PushResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Per-item result of a push, in request order."""

    id: str
    status: PushStatus
    server_seq: int | None = None
    conflict: Conflict | None = None
    error: ItemError | None = None


class PushResponse(msgspec.Struct, kw_only=True):
    """``POST /v1/sync/push`` answer."""

    results: list[PushResult]
    write_checkpoint: int


class Change(msgspec.Struct, kw_only=True):
    """One entry of the change feed."""

    seq: int
    entity: str
    op: Literal["put", "remove"]
    id: str
    row: dict[str, Any] | None = None


class PullResponse(msgspec.Struct, kw_only=True):
    """``GET /v1/sync/pull`` answer."""

    changes: list[Change]
    cursor: str
    up_to_date: bool
    checksum: dict[str, Any] | None = None
    progress: dict[str, int] | None = None
