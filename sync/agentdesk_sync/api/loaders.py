"""Read domain objects out of the central store for the policy and recommendation engines.

Hot paths use SQLAlchemy Core and decode the stored wire rows with msgspec; no ORM objects.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.domain import (
    Campaign,
    Channel,
    Claim,
    Contact,
    CustomerAttributes,
    CustomerView,
    Offer,
    TargetListEntry,
)
from agentdesk.policy import RuleSet, default_rules
from agentdesk.protocol import from_row
from agentdesk_sync.api.wire import as_utc, iso
from agentdesk_sync.db import models as m
from agentdesk_sync.deps import AppState

__all__ = [
    "HISTORY_DAYS",
    "RULES_RECHECK_S",
    "attributes_of",
    "claim_of",
    "claim_row",
    "claims_of",
    "current_rules",
    "history_of",
    "load_campaigns",
    "load_claims",
    "load_history",
    "load_offers",
    "load_targets",
    "load_view",
    "rules_now",
]

HISTORY_DAYS = 90
RULES_RECHECK_S = 2.0  # a new rule_set version is picked up within this many seconds
_HISTORY = (
    select(m.Contact.row, m.Contact.server_seq)
    .where(m.Contact.customer_id == bindparam("cid"), m.Contact.started_at >= bindparam("since"))
    .order_by(m.Contact.started_at)
)
_CLAIMS = select(m.Claim).where(m.Claim.customer_id.in_(bindparam("ids", expanding=True)))


def attributes_of(row: dict[str, Any]) -> CustomerAttributes:
    """The attribute block of a stored customer row (``to_row(CustomerView)`` or attributes)."""
    return from_row(row.get("attributes", row), CustomerAttributes)


def rules_now(conn: Connection, state: AppState) -> RuleSet:
    """The newest rule set in the store, or the default rules.

    The rule set is cached in ``state``; the newest version number is read again at most every
    :data:`RULES_RECHECK_S` seconds, so a new ``rule_set`` version takes effect within that time
    without costing a query on every request.
    """
    cached = state.rules_cache
    checked = time.monotonic()
    if cached is not None and checked - state.rules_checked_at < RULES_RECHECK_S:
        return cached[1]  # type: ignore[no-any-return]
    version = conn.execute(select(func.max(m.RuleSet.version))).scalar_one_or_none()
    if version is None:
        if cached is None or cached[0] != 0:
            cached = state.rules_cache = (0, default_rules())
    elif cached is None or cached[0] != version:
        stmt = select(m.RuleSet.rules).where(m.RuleSet.version == version)
        rules = conn.execute(stmt).scalar_one()
        cached = state.rules_cache = (version, RuleSet.from_dict(rules))
    state.rules_checked_at = checked
    return cached[1]  # type: ignore[no-any-return]


async def current_rules(conn: AsyncConnection, state: AppState) -> RuleSet:
    """:func:`rules_now` on an async connection."""
    return await conn.run_sync(rules_now, state)


def history_of(conn: Connection, customer_id: str, since: datetime) -> list[Contact]:
    """The customer's contacts started at or after ``since``, oldest first, all channels."""
    rows = conn.execute(_HISTORY, {"cid": customer_id, "since": since}).all()
    return [from_row({**r.row, "server_seq": r.server_seq}, Contact) for r in rows]


async def load_history(
    conn: AsyncConnection, customer_id: str, now: datetime, days: int = HISTORY_DAYS
) -> list[Contact]:
    """The customer's contacts of the last ``days`` days, oldest first, all channels."""
    return await conn.run_sync(history_of, customer_id, now - timedelta(days=days))


def claim_row(row: Any) -> dict[str, Any]:
    """The wire row of a claim (entity ``claim``)."""
    return {
        "claim_id": row.claim_id,
        "customer_id": row.customer_id,
        "holder_id": row.holder_id,
        "holder_name": getattr(row, "holder_name", None) or row.holder_id,
        "channel": row.channel,
        "purpose": row.purpose,
        "fence": row.fence,
        "lease_until": iso(row.lease_until),
        "acquired_at": iso(getattr(row, "acquired_at", None)),
    }


def claim_of(row: Any) -> Claim:
    """A domain :class:`Claim` from a ``claim`` row."""
    return Claim(
        claim_id=row.claim_id,
        customer_id=row.customer_id,
        holder_id=row.holder_id,
        channel=Channel(row.channel),
        fence=row.fence,
        lease_until=as_utc(row.lease_until),
        purpose=row.purpose,
        holder_name=row.holder_id,
        acquired_at=as_utc(row.acquired_at),
    )


def claims_of(conn: Connection, customer_ids: Sequence[str]) -> list[Claim]:
    """Claim rows of the customers (valid or not: the policy compares with ``now``)."""
    return [claim_of(row) for row in conn.execute(_CLAIMS, {"ids": list(customer_ids)}).all()]


async def load_claims(conn: AsyncConnection, customer_ids: Sequence[str]) -> list[Claim]:
    """:func:`claims_of` on an async connection."""
    return await conn.run_sync(claims_of, customer_ids)


async def load_campaigns(conn: AsyncConnection, ids: Sequence[str] | None = None) -> list[Campaign]:
    """Campaigns (all, or those with the given ids)."""
    stmt = select(m.Campaign.row)
    if ids is not None:
        stmt = stmt.where(m.Campaign.campaign_id.in_(list(ids)))
    return [from_row(r, Campaign) for r in (await conn.execute(stmt)).scalars()]


async def load_offers(conn: AsyncConnection) -> list[Offer]:
    """Every offer."""
    rows = (await conn.execute(select(m.Offer.row))).scalars()
    return [from_row(r, Offer) for r in rows]


async def load_targets(conn: AsyncConnection, customer_id: str) -> list[TargetListEntry]:
    """The target-list entries of one customer."""
    stmt = select(m.TargetMember.row).where(m.TargetMember.customer_id == customer_id)
    return [from_row(r, TargetListEntry) for r in (await conn.execute(stmt)).scalars()]


async def load_view(conn: AsyncConnection, row: dict[str, Any], customer_id: str) -> CustomerView:
    """The full :class:`CustomerView` of a customer row, with holdings and usage."""
    holdings = select(m.Holding.row).where(m.Holding.customer_id == customer_id)
    usage = (
        select(m.UsageMonth.row)
        .where(m.UsageMonth.customer_id == customer_id)
        .order_by(m.UsageMonth.month)
    )
    base: dict[str, Any] = dict(row) if "attributes" in row else {"attributes": row}
    base["holdings"] = list((await conn.execute(holdings)).scalars())
    base["usage"] = list((await conn.execute(usage)).scalars())
    try:
        return from_row(base, CustomerView)
    except msgspec.ValidationError:
        base["holdings"], base["usage"] = [], []
        return from_row(base, CustomerView)
