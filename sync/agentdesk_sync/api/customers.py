"""Customer endpoints: the unified view, search, eligibility and recommendations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from agentdesk.domain import Channel
from agentdesk.policy import Reason as PolicyReason
from agentdesk.policy import evaluate
from agentdesk.protocol import (
    Budget,
    CustomerList,
    Eligibility,
    Reason,
    Recommendation,
    Recommendations,
    Suppressed,
)
from agentdesk.recommend import recommend
from agentdesk_sync.api import openapi
from agentdesk_sync.api.loaders import (
    attributes_of,
    claim_row,
    current_rules,
    load_campaigns,
    load_claims,
    load_history,
    load_offers,
    load_targets,
    load_view,
)
from agentdesk_sync.api.wire import iso, json_response, utcnow
from agentdesk_sync.auth import PrincipalDep
from agentdesk_sync.db import models as m
from agentdesk_sync.deps import StateDep
from agentdesk_sync.errors import ApiError
from agentdesk_sync.scope import customer_scope, load_customer

__all__ = ["router", "to_reason"]

router = APIRouter(prefix="/v1/customers", tags=["customers"])
RECENT_CONTACTS = 50
_OPEN_ORDER = ("open", "in_progress")
_SUMMARY = (
    m.Customer.customer_id,
    m.Customer.msisdn,
    m.Customer.name,
    m.Customer.region_code,
    m.Customer.segment_id,
    m.Customer.id_number,
    m.Customer.account_manager_id,
    # read from the stored row (no column of its own): the desktop marks VIPs in a hit list
    m.Customer.row[("attributes", "vip_level")].as_string().label("vip_level"),
)
_VIEW_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": "Unified customer view",
}
ChannelQ = Annotated[Channel, Query(description="Channel to evaluate")]


def to_reason(reason: PolicyReason) -> Reason:
    """A policy reason on the wire."""
    return Reason(
        code=str(reason.code),
        rule_id=reason.rule_id,
        detail=dict(reason.detail),
        until=iso(reason.until),
    )


def _prefix(column: Any, text: str) -> Any:
    return and_(column >= text, column < text + "\uffff")


@router.get("", responses=openapi.answers(CustomerList, 200, 401))
async def search(
    state: StateDep,
    principal: PrincipalDep,
    msisdn: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Find customers in scope by exact msisdn or free text (name, msisdn prefix, id number)."""
    if msisdn:
        match: Any = m.Customer.msisdn == msisdn
    elif q:
        text = q.strip()
        digits = text.isdigit()
        match = (
            or_(_prefix(m.Customer.msisdn, text), _prefix(m.Customer.id_number, text))
            if digits
            else or_(_prefix(m.Customer.name, text), m.Customer.id_number == text.upper())
        )
    else:
        fields = {"q": "give msisdn or q"}
        raise ApiError(422, "invalid_request", "Give msisdn or q.", {"fields": fields})
    where = and_(match, customer_scope(principal))
    async with state.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(*_SUMMARY).where(where).order_by(m.Customer.customer_id).limit(limit)
            )
        ).all()
        total = len(rows)
        if total == limit:
            total = (
                await conn.execute(select(func.count()).select_from(m.Customer).where(where))
            ).scalar_one()
    items = [dict(r._mapping) for r in rows]
    return json_response(CustomerList(items=items, total=int(total)))


async def _scalars(conn: AsyncConnection, stmt: Any) -> list[Any]:
    return list((await conn.execute(stmt)).scalars())


async def _recent_contacts(conn: AsyncConnection, customer_id: str) -> list[dict[str, Any]]:
    c = m.Contact
    stmt = (
        select(c.row, c.result, c.server_seq)
        .where(c.customer_id == customer_id)
        .order_by(c.started_at.desc())
        .limit(RECENT_CONTACTS)
    )
    rows = (await conn.execute(stmt)).all()
    return [{**r.row, "server_seq": r.server_seq, "result": r.result} for r in rows]


async def _view(
    conn: AsyncConnection, customer_id: str, row: dict[str, Any], requested: str
) -> dict[str, Any]:
    view: dict[str, Any] = {**row, "customer_id": customer_id}
    if requested != customer_id:
        view["redirected_from"] = requested
    mine = m.Holding.customer_id == customer_id
    view["holdings"] = await _scalars(conn, select(m.Holding.row).where(mine))
    usage = select(m.UsageMonth.row).where(m.UsageMonth.customer_id == customer_id)
    view["usage"] = await _scalars(conn, usage.order_by(m.UsageMonth.month))
    view["recent_contacts"] = await _recent_contacts(conn, customer_id)
    orders = select(m.MarketingOrder.row).where(m.MarketingOrder.customer_id == customer_id)
    view["open_orders"] = [
        o for o in await _scalars(conn, orders) if o.get("status", "open") in _OPEN_ORDER
    ]
    valid = and_(m.Claim.customer_id == customer_id, m.Claim.lease_until > utcnow())
    claim = (await conn.execute(select(m.Claim).where(valid))).first()
    view["active_claim"] = claim_row(claim) if claim else None
    targets = select(m.TargetMember.row).where(m.TargetMember.customer_id == customer_id)
    view["targets"] = await _scalars(conn, targets)
    ids = [t["campaign_id"] for t in view["targets"] if t.get("campaign_id")]
    campaigns = select(m.Campaign.row).where(m.Campaign.campaign_id.in_(ids))
    view["campaigns"] = await _scalars(conn, campaigns) if ids else []
    return view


@router.get("/{customer_id}", responses=openapi.answers(_VIEW_SCHEMA, 200, 401, 403, 404))
async def get_customer(customer_id: str, state: StateDep, principal: PrincipalDep) -> Response:
    """The unified customer view (follows merges to the kept customer)."""
    async with state.engine.connect() as conn:
        ref = await load_customer(conn, principal, customer_id)
        return json_response(await _view(conn, ref.customer_id, ref.row, customer_id))


@router.get(
    "/{customer_id}/eligibility", responses=openapi.answers(Eligibility, 200, 401, 403, 404)
)
async def eligibility(
    customer_id: str,
    channel: ChannelQ,
    state: StateDep,
    principal: PrincipalDep,
    campaign_id: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """Whether the caller may contact the customer on ``channel`` now, and why not."""
    async with state.engine.connect() as conn:
        ref = await load_customer(conn, principal, customer_id)
        now = utcnow()
        campaign = None
        if campaign_id:
            found = await load_campaigns(conn, [campaign_id])
            if not found:
                raise ApiError(404, "not_found", "No such campaign.", {"campaign_id": campaign_id})
            campaign = found[0]
        targets = await load_targets(conn, ref.customer_id)
        rivals = {t.campaign_id for t in targets} - {campaign_id}
        decision = evaluate(
            attributes_of(ref.row),
            channel,
            campaign,
            await load_history(conn, ref.customer_id, now),
            await load_claims(conn, [ref.customer_id]),
            await current_rules(conn, state),
            now,
            user_id=principal.user_id,
            targets=targets,
            campaigns=await load_campaigns(conn, sorted(rivals)) if rivals else (),
        )
    b = decision.budget
    budget = (
        Budget(window=b.window, limit=b.limit, used=b.used, remaining=b.remaining) if b else None
    )
    answer = Eligibility(
        allowed=decision.allowed,
        outcome=decision.outcome.value,
        deferred_until=iso(decision.deferred_until),  # type: ignore[arg-type]
        reasons=[to_reason(r) for r in decision.reasons],
        budget=budget,
    )
    return json_response(answer)


@router.get(
    "/{customer_id}/recommendations", responses=openapi.answers(Recommendations, 200, 401, 403, 404)
)
async def recommendations(
    customer_id: str,
    channel: ChannelQ,
    state: StateDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=5)] = 3,
) -> Response:
    """The next best offers for the customer on ``channel``, with the suppressed ones."""
    async with state.engine.connect() as conn:
        ref = await load_customer(conn, principal, customer_id)
        now = utcnow()
        result = recommend(
            await load_view(conn, ref.row, ref.customer_id),
            channel,
            await load_offers(conn),
            await load_campaigns(conn),
            await load_targets(conn, ref.customer_id),
            await load_history(conn, ref.customer_id, now),
            await load_claims(conn, [ref.customer_id]),
            await current_rules(conn, state),
            now,
            limit,
            user_id=principal.user_id,
        )
    items = [
        Recommendation(
            offer_id=i.offer.offer_id,
            campaign_id=i.campaign.campaign_id,
            title=i.offer.title,
            score=float(i.score),
            reasons=[to_reason(r) for r in i.reasons],
            script=i.script,
            valid_until=iso(i.valid_until),
        )
        for i in result.items
    ]
    suppressed = [
        Suppressed(offer_id=o.offer_id, reasons=[to_reason(r) for r in rs])
        for o, rs in result.suppressed
    ]
    return json_response(Recommendations(items=items, suppressed=suppressed))
