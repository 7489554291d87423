"""Builders of domain objects for the policy and recommendation tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from agentdesk.domain import (
    Campaign,
    Channel,
    Claim,
    Contact,
    CustomerAttributes,
    OfferReaction,
    ResultCode,
)

# Thursday 26 Nov 2026, 11:00 in Guangzhou (03:00 UTC): inside working hours.
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
_ids = count(1)


def customer(**changes: object) -> CustomerAttributes:
    """A Guangzhou customer with no restrictions unless ``changes`` say otherwise."""
    base: dict[str, object] = {
        "customer_id": "C00000001",
        "msisdn": "13800000001",
        "name": "李雷",
        "region_code": "440100",
    }
    base.update(changes)
    return CustomerAttributes(**base)  # type: ignore[arg-type]


def contact(
    at: datetime,
    channel: Channel = Channel.OUTBOUND_CALL,
    *,
    result: ResultCode = ResultCode.REACHED_NO_OFFER,
    campaign_id: str | None = None,
    staff: str = "agent1",
    reactions: tuple[OfferReaction, ...] = (),
    contact_id: str | None = None,
    customer_id: str = "C00000001",
) -> Contact:
    """A contact of ``customer_id`` that started at ``at`` and lasted five minutes."""
    return Contact(
        contact_id=contact_id or f"K{next(_ids):06d}",
        customer_id=customer_id,
        channel=channel,
        started_at=at,
        ended_at=at + timedelta(minutes=5),
        result_code=result,
        staff_id=staff,
        campaign_id=campaign_id,
        reactions=reactions,
    )


def campaign(campaign_id: str = "K0001", **changes: object) -> Campaign:
    """An active campaign valid for a year around :data:`NOW`."""
    base: dict[str, object] = {
        "campaign_id": campaign_id,
        "name": f"Campaign {campaign_id}",
        "channels": (Channel.OUTBOUND_CALL, Channel.STORE, Channel.FIELD_VISIT, Channel.SMS),
        "strategy": "upsell",
        "target_group": "all",
        "valid_from": NOW - timedelta(days=180),
        "valid_to": NOW + timedelta(days=180),
        "created_at": NOW - timedelta(days=200),
    }
    base.update(changes)
    return Campaign(**base)  # type: ignore[arg-type]


def claim(
    holder: str = "other",
    *,
    until: datetime = NOW + timedelta(minutes=15),
    acquired: datetime | None = None,
    channel: Channel = Channel.FIELD_VISIT,
    customer_id: str = "C00000001",
    fence: int = 7,
) -> Claim:
    """A claim on the customer held by ``holder``."""
    return Claim(
        claim_id=f"L{next(_ids):06d}",
        customer_id=customer_id,
        holder_id=holder,
        holder_name=holder.title(),
        channel=channel,
        fence=fence,
        lease_until=until,
        acquired_at=acquired,
    )
