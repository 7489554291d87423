"""Claims: per-customer leases with fencing tokens (docs/sync.md, "Claims").

Acquire is one ``INSERT … ON CONFLICT (customer_id) DO UPDATE … WHERE claim.lease_until <= :now
OR claim.holder_id = :me RETURNING …`` (PostgreSQL and SQLite ≥ 3.35): the current holder gets
its claim back (same ``claim_id`` and ``fence``, lease extended), a new holder gets a new
``claim_id`` and ``fence + 1``, and a valid claim of someone else returns no row (409
``claimed``). Only the server clock decides validity. Claims are published in the change feed
(entity ``claim``, id = customer id).

Cost: every operation runs synchronously in a group commit (:mod:`agentdesk_sync.writer`: the
requests waiting together share one transaction, one worker thread hop and one ``COMMIT``; on
SQLite under the app's write lock, ``BEGIN IMMEDIATE``); claim requests that follow each other
in a group also share one savepoint and one change-log append. Statements are built once and
bound at execute. The acquires of a run read their customers and 90-day histories up front (on
the driver connection; on PostgreSQL both statements in one pipeline), then each is the scope
check, the rule-set version check (cached rules) and the upsert; a release or renew is one
``UPDATE … RETURNING`` (the customer's region comes back in the same statement).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from agentdesk.domain import Channel, Contact
from agentdesk.policy import Outcome, evaluate
from agentdesk.protocol import Budget, ClaimRequest, ClaimResponse, from_row
from agentdesk_sync.api.items import publish_sync
from agentdesk_sync.api.loaders import (
    HISTORY_DAYS,
    attributes_of,
    claim_row,
    history_of,
    rules_now,
)
from agentdesk_sync.api.wire import iso, utcnow
from agentdesk_sync.auth import Principal
from agentdesk_sync.db import models as m
from agentdesk_sync.db.changes import ChangeRow, sqlite_ts
from agentdesk_sync.db.driver import rows_together
from agentdesk_sync.deps import AppState
from agentdesk_sync.errors import ApiError
from agentdesk_sync.scope import CustomerRef, find_customer, forbidden, not_found

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


_WHEN = m.Claim.lease_until.type
# The claimed customer's region inside RETURNING; the outer column is spelled out because the
# SQLite dialect renders RETURNING columns unqualified ("customer_id = customer_id" would match
# every customer).
_REGION = (
    select(m.Customer.region_code)
    .where(m.Customer.customer_id == literal_column("claim.customer_id"))
    .scalar_subquery()
)


@functools.cache
def _upsert(dialect: str) -> Any:
    """The acquire upsert of ``dialect``, built once (parameters ``p_*`` bound at execute)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ins = insert(_T).values(
        customer_id=bindparam("p_customer"),
        claim_id=bindparam("p_claim"),
        holder_id=bindparam("p_holder"),
        channel=bindparam("p_channel"),
        purpose=bindparam("p_purpose"),
        fence=1,
        lease_until=bindparam("p_until", type_=_WHEN),
        acquired_at=bindparam("p_now", type_=_WHEN),
    )
    now = bindparam("p_now", type_=_WHEN)
    me = bindparam("p_holder", type_=_T.c.holder_id.type)
    mine = and_(_T.c.holder_id == me, _T.c.lease_until > now)
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
        where=or_(_T.c.lease_until <= now, _T.c.holder_id == me),
    ).returning(_T.c.claim_id, _T.c.fence, _T.c.acquired_at)


_HOLDER = (
    select(_T.c.holder_id, _T.c.channel, _T.c.lease_until, _T.c.acquired_at, m.AppUser.name)
    .select_from(_T.outerjoin(m.AppUser.__table__, m.AppUser.user_id == _T.c.holder_id))
    .where(_T.c.customer_id == bindparam("p_customer"))
)
_QUOTA = select(func.count()).where(
    _T.c.holder_id == bindparam("p_holder"),
    _T.c.purpose.in_(sorted(LONG_PURPOSES)),
    _T.c.lease_until > bindparam("p_now", type_=_WHEN),
    _T.c.customer_id != bindparam("p_customer"),
)
_VALID_OF_HOLDER = and_(
    _T.c.claim_id == bindparam("p_claim"),
    _T.c.holder_id == bindparam("p_holder"),
    _T.c.lease_until > bindparam("p_now", type_=_WHEN),
)
_RENEW = (
    update(_T)
    .where(_VALID_OF_HOLDER)
    .values(lease_until=bindparam("p_until", type_=_WHEN))
    .returning(
        _T.c.customer_id,
        _T.c.fence,
        _T.c.channel,
        _T.c.purpose,
        _T.c.acquired_at,
        _REGION.label("region"),
    )
)
_RELEASE = (
    update(_T)
    .where(_VALID_OF_HOLDER)
    .values(lease_until=bindparam("p_now", type_=_WHEN))
    .returning(_T.c.customer_id, _REGION.label("region"))
)
_PURPOSE = select(_T.c.purpose).where(_T.c.claim_id == bindparam("p_claim"))


@dataclass(slots=True)
class _Run:
    """What the claim requests sharing one savepoint share: their changes, and the customers
    and 90-day histories the acquires need, read once for all of them."""

    changes: list[ChangeRow] = field(default_factory=list)
    refs: dict[str, tuple[str, str, dict[str, Any], int]] = field(default_factory=dict)
    histories: dict[str, list[Contact]] = field(default_factory=dict)
    since: datetime | None = None

    def prefetch(self, conn: Connection, wanted: list[str]) -> None:
        """Read the customers ``wanted`` and their histories: two statements on the driver
        connection, sent together on PostgreSQL (one round trip)."""
        self.since = since = utcnow() - timedelta(days=HISTORY_DAYS)
        pg = conn.dialect.name == "postgresql"
        ids: Any = wanted if pg else orjson.dumps(wanted).decode()
        queries = (
            (_PREFETCH[pg][0], (ids,)),
            (_PREFETCH[pg][1], (ids, since if pg else sqlite_ts(since))),
        )
        customers, histories = rows_together(conn, *queries)
        for customer_id, region, raw, row_seq in customers:
            self.refs[customer_id] = (customer_id, region, orjson.loads(raw), row_seq)
        self.histories = {customer_id: [] for customer_id in self.refs}
        for customer_id, raw, server_seq in histories:
            if customer_id in self.histories:
                row = {**orjson.loads(raw), "server_seq": server_seq}
                self.histories[customer_id].append(from_row(row, Contact))

    def customer(self, conn: Connection, principal: Principal, customer_id: str) -> Any:
        """:func:`find_customer`, from the prefetched rows when there."""
        found = self.refs.get(customer_id)
        if found is None:
            return find_customer(conn, principal, customer_id)
        kept, region, row, row_seq = found
        return CustomerRef(kept, region, row, row_seq, _visible(conn, principal, kept, region))

    def history(self, conn: Connection, customer_id: str, since: datetime) -> list[Contact]:
        """:func:`history_of`, from the prefetched rows when there."""
        stored = self.histories.get(customer_id)
        if stored is None or self.since is None or since < self.since:
            return history_of(conn, customer_id, since)
        return [c for c in stored if c.started_at >= since]


def _visible(conn: Connection, principal: Principal, customer_id: str, region: str) -> bool:
    """Whether ``principal`` may see the customer (as :func:`find_customer` judges it)."""
    if principal.uses_portfolio:
        params = {"uid": principal.user_id, "cid": customer_id}
        return conn.execute(_IN_PORTFOLIO, params).first() is not None
    return principal.sees_all or region in principal.regions


# (customers, histories) of a run's acquires, by "is PostgreSQL"; on the driver connection. A
# row stored under a merged-away id is left out: find_customer follows the redirect instead.
_NOT_MERGED = (
    " AND NOT EXISTS (SELECT 1 FROM customer_redirect r WHERE r.old_id = customer.customer_id)"
)
_PREFETCH = {
    True: (
        "SELECT customer_id, region_code, row::text, row_seq FROM customer"
        " WHERE customer_id = ANY(%s)" + _NOT_MERGED,
        "SELECT customer_id, row::text, server_seq FROM contact"
        " WHERE customer_id = ANY(%s) AND started_at >= %s ORDER BY started_at",
    ),
    False: (
        "SELECT customer_id, region_code, row, row_seq FROM customer"
        " WHERE customer_id IN (SELECT value FROM json_each(?))" + _NOT_MERGED,
        "SELECT customer_id, row, server_seq FROM contact"
        " WHERE customer_id IN (SELECT value FROM json_each(?)) AND started_at >= ?"
        " ORDER BY started_at",
    ),
}


_IN_PORTFOLIO = select(m.Portfolio.customer_id).where(
    m.Portfolio.user_id == bindparam("uid"), m.Portfolio.customer_id == bindparam("cid")
)


@dataclass(frozen=True, slots=True)
class _Op:
    """One claim request: ``work(conn, run)``; ``customer`` is the id an acquire asks for."""

    work: Callable[[Connection, _Run], Any]
    customer: str | None = None


async def _in_txn(state: AppState, op: _Op) -> Any:
    """Run ``op`` in the next write group (:mod:`agentdesk_sync.writer`).

    Claim requests that follow each other in the group share one savepoint, one read of the
    acquired customers and their histories, and one change-log append (:func:`_apply`); each
    sees the claims as the ones before it left them. Answered after the group's commit, when
    its changes are announced.
    """
    return await state.writer.submit_merged(state, "claim", _apply, op)


def _apply(conn: Connection, ops: list[_Op]) -> list[Any]:
    """Claim requests one after the other, then their changes, numbered in that order.

    An :class:`ApiError` (403, 404, 409, …) is raised by a request before it wrote anything,
    so it becomes that request's answer and the others go on.
    """
    run = _Run()
    wanted = sorted({op.customer for op in ops if op.customer})
    if wanted:
        run.prefetch(conn, wanted)
    answers: list[Any] = []
    for op in ops:
        try:
            answers.append(op.work(conn, run))
        except ApiError as exc:
            answers.append(exc)
    publish_sync(conn, run.changes)  # numbers, log rows and NOTIFY: one pipeline
    return answers


def _policy_check(
    conn: Connection,
    state: AppState,
    principal: Principal,
    ref: CustomerRef,
    channel: Channel,
    purpose: str,
    now: datetime,
    run: _Run,
) -> Budget | None:
    rules = rules_now(conn, state)
    history = run.history(conn, ref.customer_id, now - timedelta(days=HISTORY_DAYS))
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


def _check_quota(conn: Connection, principal: Principal, customer_id: str, now: datetime) -> None:
    params = {"p_holder": principal.user_id, "p_now": now, "p_customer": customer_id}
    held = int(conn.execute(_QUOTA, params).scalar_one())
    if held >= PRECLAIM_QUOTA:
        raise ApiError(
            409,
            "quota_exceeded",
            "You already hold the maximum of long claims.",
            {"limit": PRECLAIM_QUOTA, "held": held},
        )


def _claimed(conn: Connection, customer_id: str) -> ApiError:
    """409 ``claimed`` naming the current holder (one statement, only on this slow path)."""
    row = conn.execute(_HOLDER, {"p_customer": customer_id}).first()
    holder: dict[str, Any] = {}
    if row is not None:
        holder = {
            "user_id": row.holder_id,
            "channel": row.channel,
            "lease_until": iso(row.lease_until),
            "acquired_at": iso(row.acquired_at),
            "name": row.name,
        }
    return ApiError(
        409, "claimed", "Someone else is working with this customer.", {"holder": holder}
    )


async def acquire(state: AppState, principal: Principal, req: ClaimRequest) -> Granted:
    """Claim a customer for ``principal``.

    Raises:
        ApiError: 403 (role, scope), 404, 409 (``claimed``, ``policy_blocked``,
            ``quota_exceeded``), 422.
    """
    _require_contacting(principal)
    channel, ttl = _channel(req.channel), _ttl(req.ttl_s, req.purpose)
    purpose = req.purpose[:32]

    def work(conn: Connection, run: _Run) -> Granted:
        ref = run.customer(conn, principal, req.customer_id)
        if ref is None:
            raise not_found(req.customer_id)
        if not ref.in_scope:
            raise forbidden(customer_id=req.customer_id)
        now = utcnow()
        budget = _policy_check(conn, state, principal, ref, channel, req.purpose, now, run)
        if req.purpose in LONG_PURPOSES:
            _check_quota(conn, principal, ref.customer_id, now)
        new_id = str(uuid.uuid4())
        until = now + ttl
        params = {
            "p_customer": ref.customer_id,
            "p_claim": new_id,
            "p_holder": principal.user_id,
            "p_channel": channel.value,
            "p_purpose": purpose,
            "p_until": until,
            "p_now": now,
        }
        row = conn.execute(_upsert(conn.dialect.name), params).first()
        if row is None:
            raise _claimed(conn, ref.customer_id)
        view = _ClaimView(
            row.claim_id, ref.customer_id, principal.user_id, principal.name,
            channel.value, purpose, row.fence, until, row.acquired_at,
        )  # fmt: skip
        run.changes.append(_put(view, ref.region_code))
        resp = ClaimResponse(
            claim_id=row.claim_id,
            fence=row.fence,
            lease_until=iso(until) or "",
            server_now=iso(now) or "",
            budget=budget,
        )
        return Granted(resp, created=row.claim_id == new_id)

    granted: Granted = await _in_txn(state, _Op(work, req.customer_id))
    return granted


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


def _put(view: _ClaimView, region: str | None) -> ChangeRow:
    return ChangeRow("claim", view.customer_id, "put", claim_row(view), region, view.customer_id)


async def renew(state: AppState, principal: Principal, claim_id: str, ttl_s: int) -> ClaimResponse:
    """Extend the holder's valid claim; the fence stays.

    Raises:
        ApiError: 403 for supervisors/admins, 409 ``lease_lost`` when expired or superseded,
            422 for a ttl that is not positive.
    """
    _require_contacting(principal)
    _ttl(ttl_s, "")  # 422 before anything else

    def work(conn: Connection, run: _Run) -> ClaimResponse:
        now = utcnow()
        purpose = ""
        if ttl_s > MAX_TTL_S:  # only then does the purpose change the cap
            purpose = conn.execute(_PURPOSE, {"p_claim": claim_id}).scalar() or ""
        until = now + _ttl(ttl_s, purpose)
        params = {"p_claim": claim_id, "p_holder": principal.user_id, "p_now": now,
                  "p_until": until}  # fmt: skip
        row = conn.execute(_RENEW, params).first()
        if row is None:
            raise ApiError(
                409, "lease_lost", "The claim expired or was taken over.", {"claim_id": claim_id}
            )
        view = _ClaimView(
            claim_id, row.customer_id, principal.user_id, principal.name,
            row.channel, row.purpose, row.fence, until, row.acquired_at,
        )  # fmt: skip
        run.changes.append(_put(view, row.region or ""))
        return ClaimResponse(
            claim_id=claim_id,
            fence=row.fence,
            lease_until=iso(until) or "",
            server_now=iso(now) or "",
        )

    response: ClaimResponse = await _in_txn(state, _Op(work))
    return response


async def release(state: AppState, principal: Principal, claim_id: str) -> None:
    """End the holder's claim now (idempotent: releasing twice or a lost claim is fine).

    Raises:
        ApiError: 403 for supervisors/admins.
    """
    _require_contacting(principal)

    def work(conn: Connection, run: _Run) -> None:
        params = {"p_claim": claim_id, "p_holder": principal.user_id, "p_now": utcnow()}
        row = conn.execute(_RELEASE, params).first()
        if row is None:
            return
        run.changes.append(
            ChangeRow("claim", row.customer_id, "remove", None, row.region, row.customer_id)
        )

    await _in_txn(state, _Op(work))
