"""Claims: per-customer leases with fencing tokens (SYNC.md §6).

Acquire is one ``INSERT … ON CONFLICT (customer_id) DO UPDATE … WHERE claim.lease_until <= :now
OR claim.holder_id = :me RETURNING …`` (PostgreSQL and SQLite ≥ 3.35): the current holder gets
its claim back (same ``claim_id`` and ``fence``, lease extended), a new holder gets a new
``claim_id`` and ``fence + 1``, and a valid claim of someone else returns no row (409
``claimed``). Only the server clock decides validity. Claims are published in the change feed
(entity ``claim``, id = customer id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.domain import Channel
from agentdesk.policy import Outcome, evaluate
from agentdesk.protocol import Budget, ClaimRequest, ClaimResponse
from agentdesk_sync.api.items import publish, write_txn
from agentdesk_sync.api.loaders import attributes_of, claim_row, current_rules, load_history
from agentdesk_sync.api.wire import iso, utcnow
from agentdesk_sync.auth import Principal
from agentdesk_sync.db import models as m
from agentdesk_sync.db.changes import ChangeRow
from agentdesk_sync.deps import AppState
from agentdesk_sync.errors import ApiError
from agentdesk_sync.scope import CustomerRef, load_customer

__all__ = [
    "LONG_PURPOSES",
    "MAX_LONG_TTL_S",
    "MAX_TTL_S",
    "PRECLAIM_QUOTA",
    "Granted",
    "acquire",
    "release",
    "renew",
]

MAX_TTL_S = 2 * 3600
MAX_LONG_TTL_S = 12 * 3600
PRECLAIM_QUOTA = 200
LONG_PURPOSES = frozenset({"visit_plan"})
_T: Table = m.Claim.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Granted:
    """A claim answer and whether it was newly granted (201) or the holder's own (200)."""

    response: ClaimResponse
    created: bool


def _require_contacting(principal: Principal) -> None:
    if not principal.contacts_customers:
        raise ApiError(403, "forbidden", "Your role does not claim customers.")


def _ttl(ttl_s: int, purpose: str) -> timedelta:
    if ttl_s <= 0:
        raise ApiError(
            422, "invalid_request", "ttl_s must be positive.", {"fields": {"ttl_s": "must be > 0"}}
        )
    cap = MAX_LONG_TTL_S if purpose in LONG_PURPOSES else MAX_TTL_S
    return timedelta(seconds=min(ttl_s, cap))


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        fields = {"channel": f"unknown channel {value!r}"}
        raise ApiError(422, "invalid_request", "Unknown channel.", {"fields": fields}) from None


def _upsert(dialect: str, values: dict[str, Any], me: str, now: datetime) -> Any:
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_T).values(**values)
    now_p = bindparam("now_p", now, type_=m.Claim.lease_until.type)
    mine = and_(_T.c.holder_id == me, _T.c.lease_until > now_p)
    return ins.on_conflict_do_update(
        index_elements=[_T.c.customer_id],
        set_={
            "claim_id": case((mine, _T.c.claim_id), else_=ins.excluded.claim_id),
            "fence": case((mine, _T.c.fence), else_=_T.c.fence + 1),
            "acquired_at": case((mine, _T.c.acquired_at), else_=ins.excluded.acquired_at),
            "holder_id": ins.excluded.holder_id,
            "channel": ins.excluded.channel,
            "purpose": ins.excluded.purpose,
            "lease_until": ins.excluded.lease_until,
        },
        where=or_(_T.c.lease_until <= now_p, _T.c.holder_id == me),
    ).returning(_T.c.claim_id, _T.c.fence, _T.c.lease_until, _T.c.acquired_at)


async def _policy_check(
    conn: AsyncConnection,
    state: AppState,
    principal: Principal,
    ref: CustomerRef,
    channel: Channel,
    purpose: str,
    now: datetime,
) -> Budget | None:
    rules = await current_rules(conn, state)
    history = await load_history(conn, ref.customer_id, now)
    decision = evaluate(
        attributes_of(ref.row), channel, None, history, (), rules, now, user_id=principal.user_id
    )
    blocked = decision.outcome is Outcome.BLOCKED
    if decision.outcome is Outcome.DEFERRED and purpose not in LONG_PURPOSES:
        blocked = True
    if blocked:
        reasons = [
            {"code": r.code, "rule_id": r.rule_id, "detail": r.detail, "until": iso(r.until)}
            for r in decision.reasons
        ]
        details = {
            "outcome": decision.outcome.value,
            "deferred_until": iso(decision.deferred_until),
            "reasons": reasons,
        }
        raise ApiError(
            409, "policy_blocked", "The contact policy does not allow this now.", details
        )
    b = decision.budget
    return Budget(window=b.window, limit=b.limit, used=b.used, remaining=b.remaining) if b else None


async def _check_quota(
    conn: AsyncConnection, principal: Principal, customer_id: str, now: datetime
) -> None:
    stmt = select(func.count()).where(
        _T.c.holder_id == principal.user_id,
        _T.c.purpose.in_(LONG_PURPOSES),
        _T.c.lease_until > now,
        _T.c.customer_id != customer_id,
    )
    held = (await conn.execute(stmt)).scalar_one()
    if held >= PRECLAIM_QUOTA:
        raise ApiError(
            409,
            "quota_exceeded",
            "You already hold the maximum of long claims.",
            {"limit": PRECLAIM_QUOTA, "held": held},
        )


async def _holder(conn: AsyncConnection, customer_id: str) -> dict[str, Any]:
    row = (await conn.execute(select(_T).where(_T.c.customer_id == customer_id))).first()
    if row is None:
        return {}
    name = (
        await conn.execute(select(m.AppUser.name).where(m.AppUser.user_id == row.holder_id))
    ).scalar()
    return {
        "user_id": row.holder_id,
        "channel": row.channel,
        "lease_until": iso(row.lease_until),
        "acquired_at": iso(row.acquired_at),
        "name": name,
    }


async def acquire(state: AppState, principal: Principal, req: ClaimRequest) -> Granted:
    """Claim a customer for ``principal``.

    Raises:
        ApiError: 403 (role, scope), 404, 409 (``claimed``, ``policy_blocked``,
            ``quota_exceeded``), 422.
    """
    _require_contacting(principal)
    channel, ttl = _channel(req.channel), _ttl(req.ttl_s, req.purpose)
    async with write_txn(state) as conn:
        ref = await load_customer(conn, principal, req.customer_id)
        now = utcnow()
        budget = await _policy_check(conn, state, principal, ref, channel, req.purpose, now)
        if req.purpose in LONG_PURPOSES:
            await _check_quota(conn, principal, ref.customer_id, now)
        new_id = str(uuid.uuid4())
        values = {
            "customer_id": ref.customer_id,
            "claim_id": new_id,
            "holder_id": principal.user_id,
            "channel": channel.value,
            "purpose": req.purpose[:32],
            "fence": 1,
            "lease_until": now + ttl,
            "acquired_at": now,
        }
        row = (
            await conn.execute(_upsert(conn.dialect.name, values, principal.user_id, now))
        ).first()
        if row is None:
            holder = await _holder(conn, ref.customer_id)
            raise ApiError(
                409, "claimed", "Someone else is working with this customer.", {"holder": holder}
            )
        await _publish_claim(
            conn,
            ref,
            row.claim_id,
            principal,
            channel.value,
            req.purpose,
            row.fence,
            now + ttl,
            row.acquired_at,
        )
    resp = ClaimResponse(
        claim_id=row.claim_id,
        fence=row.fence,
        lease_until=iso(now + ttl) or "",
        server_now=iso(now) or "",
        budget=budget,
    )
    return Granted(resp, created=row.claim_id == new_id)


async def _publish_claim(
    conn: AsyncConnection,
    ref: CustomerRef,
    claim_id: str,
    principal: Principal,
    channel: str,
    purpose: str,
    fence: int,
    until: datetime,
    acquired_at: datetime | None = None,
) -> None:
    row = claim_row(
        _ClaimView(
            claim_id,
            ref.customer_id,
            principal.user_id,
            principal.name,
            channel,
            purpose,
            fence,
            until,
            acquired_at,
        )
    )
    await publish(
        conn, [ChangeRow("claim", ref.customer_id, "put", row, ref.region_code, ref.customer_id)]
    )


@dataclass(frozen=True, slots=True)
class _ClaimView:
    claim_id: str
    customer_id: str
    holder_id: str
    holder_name: str
    channel: str
    purpose: str
    fence: int
    lease_until: datetime
    acquired_at: datetime | None = None  # when the holder first took it (renewals keep it)


async def renew(state: AppState, principal: Principal, claim_id: str, ttl_s: int) -> ClaimResponse:
    """Extend the holder's valid claim; the fence stays.

    Raises:
        ApiError: 403 for supervisors/admins, 409 ``lease_lost`` when expired or superseded.
    """
    _require_contacting(principal)
    async with write_txn(state) as conn:
        now = utcnow()
        current = (await conn.execute(select(_T).where(_T.c.claim_id == claim_id))).first()
        ttl = _ttl(ttl_s, current.purpose if current else "")
        stmt = (
            update(_T)
            .where(
                _T.c.claim_id == claim_id,
                _T.c.holder_id == principal.user_id,
                _T.c.lease_until > now,
            )
            .values(lease_until=now + ttl)
            .returning(_T.c.customer_id, _T.c.fence, _T.c.channel, _T.c.purpose, _T.c.acquired_at)
        )
        row = (await conn.execute(stmt)).first()
        if row is None:
            raise ApiError(
                409, "lease_lost", "The claim expired or was taken over.", {"claim_id": claim_id}
            )
        region = (
            await conn.execute(
                select(m.Customer.region_code).where(m.Customer.customer_id == row.customer_id)
            )
        ).scalar()
        ref = CustomerRef(row.customer_id, region or "", {}, 0, True)
        await _publish_claim(
            conn,
            ref,
            claim_id,
            principal,
            row.channel,
            row.purpose,
            row.fence,
            now + ttl,
            row.acquired_at,
        )
    return ClaimResponse(
        claim_id=claim_id,
        fence=row.fence,
        lease_until=iso(now + ttl) or "",
        server_now=iso(now) or "",
    )


async def release(state: AppState, principal: Principal, claim_id: str) -> None:
    """End the holder's claim now (idempotent: releasing twice or a lost claim is fine).

    Raises:
        ApiError: 403 for supervisors/admins.
    """
    _require_contacting(principal)
    async with write_txn(state) as conn:
        now = utcnow()
        stmt = (
            update(_T)
            .where(
                _T.c.claim_id == claim_id,
                _T.c.holder_id == principal.user_id,
                _T.c.lease_until > now,
            )
            .values(lease_until=now)
            .returning(_T.c.customer_id)
        )
        customer_id = (await conn.execute(stmt)).scalar()
        if customer_id is None:
            return
        region = (
            await conn.execute(
                select(m.Customer.region_code).where(m.Customer.customer_id == customer_id)
            )
        ).scalar()
        await publish(conn, [ChangeRow("claim", customer_id, "remove", None, region, customer_id)])
