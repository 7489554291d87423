"""Customer activity as wire rows: the contact ledger of the last 90 days, targets and orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

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
from agentdesk_sync.seed.fast import Draws, Ints, Weighted, below, uniforms
from agentdesk_sync.seed.identity import uuid7_texts

__all__ = [
    "Catalog",
    "campaigns_by_channel",
    "contact_counts",
    "iso_utc",
    "make_contacts",
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


def iso_utc_texts(epoch_s: Ints) -> list[str]:
    """:func:`iso_utc` of a whole column."""
    text = np.datetime_as_string(epoch_s.astype("datetime64[s]"), unit="s")
    return np.char.add(text, "Z").tolist()  # type: ignore[no-any-return]


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


def campaigns_by_channel(catalog: Catalog) -> dict[str, list[Campaign]]:
    """The catalog's campaigns per channel value."""
    by_channel: dict[str, list[Campaign]] = {}
    for campaign in catalog[0]:
        for channel in campaign.channels:
            by_channel.setdefault(channel.value, []).append(campaign)
    return by_channel


def _codes(names: tuple[str, ...], wanted: tuple[str, ...]) -> list[int]:
    return [names.index(name) for name in wanted if name in names]


_CHANNEL_NAMES: tuple[str, ...] = _CHANNELS.items
_RESULT_NAMES: tuple[str, ...] = _CALL_RESULTS.items
_FACE_CODES = np.array(_codes(_RESULT_NAMES, _FACE_RESULTS.items))
_NOT_REACHED = np.array(_codes(_RESULT_NAMES, ("not_reached_no_answer", "not_reached_busy",
                                               "not_reached_off", "wrong_number")))  # fmt: skip
_DURATIONS = np.array([_DURATION_S.get(c, 0) for c in _CHANNEL_NAMES])
_WITH_MANAGER = np.array(_codes(_CHANNEL_NAMES, ("field_visit", "phone")))
_BY_PHONE = np.array(_codes(_CHANNEL_NAMES, ("outbound_call", "phone")))
_STORES = np.array(_codes(_CHANNEL_NAMES, ("store", "online_store")))


def _staff(code: int, attrs: Row, number: int) -> str:
    channel = _CHANNEL_NAMES[code]
    if channel in ("field_visit", "phone"):
        return str(attrs["account_manager_id"])
    if channel in ("store", "online_store"):
        return f"st_{attrs['region_code']}_{number}"
    if channel == "sms":
        return "sys_sms"
    return f"cc_{attrs['region_code']}_{number}"


@dataclass(frozen=True, slots=True)
class _ContactColumns:
    """One entry per contact, already in row order (customer, then time, then id)."""

    owner: list[int]
    channel: list[int]
    contact_id: list[str]
    started: list[str]
    ended: list[str]
    result: list[int]
    campaign: list[int]
    offer: list[float]
    callback: list[str | None]
    staff: list[int]
    note: list[int]


def contact_counts(draws: Draws, m: int, width: int) -> Ints:
    """How many contacts each of ``m`` customers has (drawn for ``width`` customers)."""
    return _COUNT.indices(draws.uniform(width)[:m])


def _contact_columns(draws: Draws, counts: Ints, has_manager: npt.NDArray[np.bool_],
                     anchor_s: int, campaign_counts: Ints) -> _ContactColumns:  # fmt: skip
    owner = np.repeat(np.arange(len(has_manager)), counts)
    total = len(owner)
    # one row of draws per contact, so a customer's contacts do not depend on later customers
    raw = draws.bits(total, 13)
    v, ids = uniforms(raw[:, :11]).T, raw[:, 11:].T
    outbound = _CHANNEL_NAMES.index("outbound_call")
    channel = _CHANNELS.indices(v[0])
    channel[np.isin(channel, _WITH_MANAGER) & ~has_manager[owner]] = outbound
    started = anchor_s - (1 + below(v[1], 90)) * 86400 + 3600 + below(v[2], 39600)
    result = np.where(
        np.isin(channel, _BY_PHONE), _CALL_RESULTS.indices(v[3]),
        _FACE_CODES[_FACE_RESULTS.indices(v[3])],
    )  # fmt: skip
    result[channel == _CHANNEL_NAMES.index("sms")] = _RESULT_NAMES.index("reached_no_offer")
    available = campaign_counts[channel]
    campaign = np.where((available > 0) & (v[4] < 0.6), below(v[5], available), -1)
    reached = ~np.isin(result, _NOT_REACHED)
    fixed = _DURATIONS[channel]
    duration = np.where(fixed > 0, fixed, np.where(reached, 20 + below(v[6], 400), 30))
    callback = np.where(
        result == _RESULT_NAMES.index("reached_callback"),
        started + (1 + below(v[7], 5)) * 86400, -1,
    )  # fmt: skip
    staff = 1 + np.where(np.isin(channel, _STORES), below(v[8], 12), below(v[8], 40))
    rand_a, rand_b = ids[0] >> np.uint64(52), ids[1] >> np.uint64(2)
    order = np.lexsort((rand_b, rand_a, started, owner))
    started = started[order]
    callback = callback[order]
    calls = iso_utc_texts(np.maximum(callback, 0))
    return _ContactColumns(
        owner=owner[order].tolist(), channel=channel[order].tolist(),
        contact_id=uuid7_texts(started * 1000, rand_a[order], rand_b[order]),
        started=iso_utc_texts(started), ended=iso_utc_texts(started + duration[order]),
        result=result[order].tolist(), campaign=campaign[order].tolist(),
        offer=v[9][order].tolist(),
        callback=[t if c >= 0 else None for t, c in zip(calls, callback.tolist(), strict=True)],
        staff=staff[order].tolist(), note=below(v[10], len(_NOTES))[order].tolist(),
    )  # fmt: skip


def make_contacts(
    draws: Draws, counts: Ints, attrs: list[Row], catalog: Catalog, anchor_s: int,
    by_channel: dict[str, list[Campaign]],
) -> list[Row]:  # fmt: skip
    """``counts`` contacts per customer over the 90 days before ``anchor_s``, oldest first.

    ``counts`` come from :func:`contact_counts`, ``by_channel`` from
    :func:`campaigns_by_channel` of ``catalog``.
    """
    channel_campaigns = [by_channel.get(c, []) for c in _CHANNEL_NAMES]
    has_manager = np.array([a["account_manager_id"] is not None for a in attrs], dtype=bool)
    campaign_counts = np.array([len(c) for c in channel_campaigns], dtype=np.int64)
    col = _contact_columns(draws, counts, has_manager, anchor_s, campaign_counts)
    offers = catalog[1]
    accepted, declined = (
        _RESULT_NAMES.index("reached_accepted"),
        _RESULT_NAMES.index("reached_declined"),
    )
    reactions: dict[int, list[Row]] = {}
    candidates = zip(col.channel, col.campaign, col.result, strict=True)
    for k, (channel, picked, result) in enumerate(candidates):
        if picked >= 0 and result in (accepted, declined):
            campaign = channel_campaigns[channel][picked]
            choices = offers[campaign.campaign_id]
            offer = choices[int(col.offer[k] * len(choices))]
            reaction = "accept" if result == accepted else "decline"
            reactions[k] = [{"offer_id": offer.offer_id, "reaction": reaction,
                             "campaign_id": campaign.campaign_id}]  # fmt: skip
    campaign_ids = [[c.campaign_id for c in campaigns] for campaigns in channel_campaigns]
    owners = [attrs[owner] for owner in col.owner]
    return [
        {"contact_id": contact_id, "customer_id": a["customer_id"],
         "channel": _CHANNEL_NAMES[channel], "started_at": started, "ended_at": ended,
         "result_code": _RESULT_NAMES[result], "staff_id": _staff(channel, a, staff),
         "campaign_id": campaign_ids[channel][picked] if picked >= 0 else None,
         "opportunity_id": None, "next_appointment_at": callback, "note": _NOTES[note],
         "reactions": reactions.get(k, []), "server_seq": None}
        for k, (a, contact_id, channel, started, ended, result, staff, picked, callback, note)
        in enumerate(zip(owners, col.contact_id, col.channel, col.started, col.ended,
                         col.result, col.staff, col.campaign, col.callback, col.note, strict=True))
    ]  # fmt: skip


def _eligible(campaign: Campaign, offers: list[Offer], attrs: list[Row]) -> npt.NDArray[np.bool_]:
    segments = {s.value for s in offers[0].eligible_segments}
    if campaign.kind == "retention" and not segments:
        return np.array([a["bundle_expiry"] is not None for a in attrs], dtype=bool)
    if not segments:
        return np.ones(len(attrs), dtype=bool)
    return np.array([a["segment_id"] in segments for a in attrs], dtype=bool)


def make_targets(
    draws: Draws, attrs: list[Row], width: int, catalog: Catalog, anchor_s: int
) -> tuple[list[Row], list[Row]]:
    """Target-list entries and the marketing orders made from them.

    ~8 % of the eligible customers per campaign are targeted, in waves 1–3, 10 % of them in
    the control group; ~15 % of the others have an order, mostly still open. The draws are made
    for ``width`` customers (>= ``len(attrs)``).
    """
    campaigns = catalog[0]
    u = draws.uniform(7, width, len(campaigns))[:, : len(attrs)]
    eligible = np.stack([_eligible(c, catalog[1][c.campaign_id], attrs) for c in campaigns], axis=1)
    chosen = np.nonzero((u[0] < 0.08) & eligible)
    waves = _WAVE.indices(u[1][chosen]).tolist()
    control = (u[2][chosen] < 0.1).tolist()
    scores = np.round(u[3][chosen], 4).tolist()
    ordered = (u[4][chosen] < 0.15).tolist()
    status = _STATUS.indices(u[5][chosen]).tolist()
    created = (anchor_s - 3600 - below(u[6][chosen], 20 * 86400 - 3600 + 1)).tolist()
    entries, orders = [], []
    for k, (i, j) in enumerate(zip(chosen[0].tolist(), chosen[1].tolist(), strict=True)):
        a, campaign = attrs[i], campaigns[j]
        preferred = [c for c in a["channel_preference"] if c in campaign.channels]
        row = dict(_TARGET)
        row.update(
            customer_id=a["customer_id"], campaign_id=campaign.campaign_id,
            customer_name=a["name"], gender=a["gender"], segment_id=a["segment_id"],
            address=a["contact_address"], industry=a["industry"], wave=_WAVE.items[waves[k]],
            in_control_group=control[k],
            assigned_channel=preferred[0] if preferred else campaign.channels[0].value,
            score=scores[k],
        )  # fmt: skip
        entries.append(row)
        if control[k] or not ordered[k]:
            continue
        order = dict(_ORDER)
        order.update(
            order_id=f"MO-{row['campaign_id']}-{row['customer_id']}",
            customer_id=row["customer_id"], campaign_id=row["campaign_id"],
            channel=row["assigned_channel"], strategy="按渠道偏好派单",
            status=_STATUS.items[status[k]], created_at=iso_utc(created[k]), staff_id=None,
        )  # fmt: skip
        orders.append(order)
    return entries, orders
