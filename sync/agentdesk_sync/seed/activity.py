"""Customer activity as wire rows: the contact ledger of the last 90 days, targets and orders."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from agentdesk.domain import (
    Campaign,
    Channel,
    Contact,
    MarketingOrder,
    Offer,
    OrderStatus,
    ResultCode,
    TargetListEntry,
)
from agentdesk.protocol import to_row
from agentdesk_sync.seed.fast import Weighted, pick, randint
from agentdesk_sync.seed.identity import uuid7_at

__all__ = [
    "Catalog",
    "campaigns_by_channel",
    "iso_utc",
    "make_contacts",
    "make_orders",
    "make_targets",
]

Row = dict[str, Any]
Catalog = tuple[list[Campaign], dict[str, list[Offer]]]
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_CONTACT = to_row(
    Contact(contact_id="", customer_id="", channel=Channel.SMS, started_at=_EPOCH,
            ended_at=_EPOCH, result_code=ResultCode.REACHED_NO_OFFER, staff_id="")
)  # fmt: skip
_TARGET = to_row(TargetListEntry(customer_id="", campaign_id=""))
_ORDER = to_row(
    MarketingOrder(order_id="", customer_id="", campaign_id="", channel=Channel.SMS,
                   strategy="", status=OrderStatus.OPEN, created_at=_EPOCH)
)  # fmt: skip
_CHANNELS = Weighted(
    [("outbound_call", 30), ("inbound_call", 25), ("sms", 18), ("store", 14),
     ("online_store", 5), ("field_visit", 5), ("phone", 3)]
)  # fmt: skip
_CALL_RESULTS = Weighted(
    [("not_reached_no_answer", 22), ("not_reached_busy", 8), ("not_reached_off", 6),
     ("reached_no_offer", 20), ("reached_declined", 18), ("reached_accepted", 9),
     ("reached_callback", 12), ("churn_intent", 3), ("wrong_number", 2)]
)  # fmt: skip
_FACE_RESULTS = Weighted(
    [("reached_no_offer", 45), ("reached_declined", 25), ("reached_accepted", 18),
     ("reached_callback", 8), ("churn_intent", 4)]
)  # fmt: skip
_COUNT = Weighted(list(zip(range(11), (3, 6, 9, 11, 13, 14, 13, 11, 9, 6, 5), strict=True)))
_WAVE = Weighted([(1, 15), (2, 45), (3, 40)])
_STATUS = Weighted([("open", 55), ("in_progress", 25), ("done", 12), ("cancelled", 8)])
_DURATION_S = {"sms": 1, "online_store": 300, "store": 900, "field_visit": 1800}
_NOTES = ("", "", "", "客户表示考虑一下", "客户对资费比较敏感", "已发送资费说明短信",
          "客户要求晚上联系", "家里已有宽带")  # fmt: skip
_SHANGHAI_S = 8 * 3600


def iso_utc(epoch_s: int) -> str:
    """RFC 3339 UTC text of a whole-second epoch time, as ``to_row`` writes datetimes."""
    day, second = divmod(epoch_s, 86400)
    return _day_text(day) + _clock_text(second)


@lru_cache(maxsize=86400)
def _clock_text(second: int) -> str:
    return f"T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"


@lru_cache(maxsize=4096)
def _day_text(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).date().isoformat()


def _staff(rng: random.Random, channel: str, attrs: Row) -> str:
    region = attrs["region_code"]
    if channel in ("field_visit", "phone"):
        return str(attrs["account_manager_id"])
    if channel in ("store", "online_store"):
        return f"st_{region}_{randint(rng, 1, 12)}"
    if channel == "sms":
        return "sys_sms"
    return f"cc_{region}_{randint(rng, 1, 40)}"


def campaigns_by_channel(catalog: Catalog) -> dict[str, list[Campaign]]:
    """The catalog's campaigns per channel value."""
    by_channel: dict[str, list[Campaign]] = {}
    for campaign in catalog[0]:
        for channel in campaign.channels:
            by_channel.setdefault(channel.value, []).append(campaign)
    return by_channel


def _one_contact(
    rng: random.Random, attrs: Row, catalog: Catalog, anchor_s: int,
    by_channel: dict[str, list[Campaign]],
) -> Row:  # fmt: skip
    channel = _CHANNELS.pick(rng)
    if channel in ("field_visit", "phone") and not attrs["account_manager_id"]:
        channel = "outbound_call"
    started = anchor_s - (1 + int(rng.random() * 90)) * 86400 + 3600 + int(rng.random() * 39600)
    if channel == "sms":
        result = "reached_no_offer"
    else:
        table = _CALL_RESULTS if channel in ("outbound_call", "phone") else _FACE_RESULTS
        result = table.pick(rng)
    campaigns = by_channel.get(channel)
    campaign = pick(rng, campaigns) if campaigns and rng.random() < 0.6 else None
    reactions = []
    if campaign and result in ("reached_accepted", "reached_declined"):
        offer = pick(rng, catalog[1][campaign.campaign_id])
        reaction = "accept" if result == "reached_accepted" else "decline"
        reactions.append(
            {"offer_id": offer.offer_id, "reaction": reaction, "campaign_id": campaign.campaign_id}
        )
    reached = not result.startswith("not_reached") and result != "wrong_number"
    duration = _DURATION_S.get(channel) or ((20 + int(rng.random() * 400)) if reached else 30)
    callback = None
    if result == "reached_callback":
        callback = iso_utc(started + (1 + int(rng.random() * 5)) * 86400)
    return {
        "contact_id": uuid7_at(rng, started * 1000),
        "customer_id": attrs["customer_id"],
        "channel": channel,
        "started_at": iso_utc(started),
        "ended_at": iso_utc(started + duration),
        "result_code": result,
        "staff_id": _staff(rng, channel, attrs),
        "campaign_id": campaign.campaign_id if campaign else None,
        "opportunity_id": None,
        "next_appointment_at": callback,
        "note": pick(rng, _NOTES),
        "reactions": reactions,
        "server_seq": None,
    }


def make_contacts(
    rng: random.Random, attrs: Row, catalog: Catalog, anchor_s: int,
    by_channel: dict[str, list[Campaign]] | None = None,
) -> list[Row]:  # fmt: skip
    """About five contacts over the 90 days before ``anchor_s``, oldest first.

    ``by_channel`` (:func:`campaigns_by_channel` of ``catalog``) saves recomputing it per call.
    """
    if by_channel is None:
        by_channel = campaigns_by_channel(catalog)
    count = _COUNT.pick(rng)
    contacts = [_one_contact(rng, attrs, catalog, anchor_s, by_channel) for _ in range(count)]
    return sorted(contacts, key=lambda c: (c["started_at"], c["contact_id"]))


def _eligible(campaign: Campaign, offers: list[Offer], attrs: Row) -> bool:
    segments = offers[0].eligible_segments
    if campaign.kind == "retention" and not segments:
        return attrs["bundle_expiry"] is not None
    return not segments or attrs["segment_id"] in segments


def make_targets(rng: random.Random, attrs: Row, catalog: Catalog) -> list[Row]:
    """Target-list entries: ~8 % of eligible customers per campaign, waves 1–3, 10 % control."""
    entries = []
    preference = attrs["channel_preference"]
    for campaign in catalog[0]:
        offers = catalog[1][campaign.campaign_id]
        if rng.random() >= 0.08 or not _eligible(campaign, offers, attrs):
            continue
        preferred = [c for c in preference if c in campaign.channels]
        row = dict(_TARGET)
        row.update(
            customer_id=attrs["customer_id"], campaign_id=campaign.campaign_id,
            customer_name=attrs["name"], gender=attrs["gender"], segment_id=attrs["segment_id"],
            address=attrs["contact_address"], industry=attrs["industry"], wave=_WAVE.pick(rng),
            in_control_group=rng.random() < 0.1,
            assigned_channel=preferred[0] if preferred else campaign.channels[0].value,
            score=round(rng.random(), 4),
        )  # fmt: skip
        entries.append(row)
    return entries


def make_orders(rng: random.Random, targets: list[Row], anchor_s: int) -> list[Row]:
    """Marketing orders for ~15 % of the non-control target entries, mostly still open."""
    orders = []
    for entry in targets:
        if entry["in_control_group"] or rng.random() >= 0.15:
            continue
        row = dict(_ORDER)
        row.update(
            order_id=f"MO-{entry['campaign_id']}-{entry['customer_id']}",
            customer_id=entry["customer_id"], campaign_id=entry["campaign_id"],
            channel=entry["assigned_channel"], strategy="按渠道偏好派单", status=_STATUS.pick(rng),
            created_at=iso_utc(anchor_s - randint(rng, 3600, 20 * 86400)), staff_id=None,
        )  # fmt: skip
        orders.append(row)
    return orders
