"""The simulation's own judge: conflicts straight from the rules' definitions, and the verdict.

It does not call :mod:`agentdesk.policy`: it re-states the default rules (docs/contact-policy.md) as
plain loops, replays every simulated contact against the contacts the server held before it (by
server sequence) and compares with what the server flagged at push time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentdesk.domain import Channel, Contact, CustomerAttributes, Reaction, ResultCode
from agentdesk.protocol import from_row
from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine

__all__ = ["VERDICT_KEYS", "oracle_conflicts", "verdict"]

_WEEK, _GAP, _COOL = timedelta(days=7), timedelta(hours=24), timedelta(days=30)
_QUIET = {"outbound_call", "phone", "field_visit", "sms", "mms", "ivr", "ussd"}
_SHANGHAI = ZoneInfo("Asia/Shanghai")
VERDICT_KEYS = (
    "violations_online",
    "offline_conflicts",
    "offline_conflicts_flagged",
    "flag_mismatches",
    "server_flagged",
)


def _over_cap(times: list[float], t: float, limit: int, window: float) -> bool:
    """Some window ``(x - window, x]`` with ``t`` in it holds over ``limit`` of ``times + [t]``."""
    every = [*times, t]
    return any(
        x - window < t <= x and sum(x - window < y <= x for y in every) > limit for x in every
    )


def oracle_conflicts(c: Contact, prior: Sequence[Contact], who: CustomerAttributes) -> set[str]:
    """Conflict types of contact ``c`` against the ``prior`` ledger of its customer.

    Rules: ≤ 2 marketing contacts per rolling 7 days, ≤ 1 outbound call per 7 days, ≥ 24 h
    between marketing contacts, no calls/SMS/visits 21:00–09:00 Shanghai time, do-not-contact,
    sensitive or opted-out channels (or one the customer asked not to be used), and a 30-day
    cool-down of a declined offer. Service-only contacts never conflict.
    """
    if not c.is_marketing:
        return set()
    t, found = c.started_at.timestamp(), set()
    marketing = [p for p in prior if p.is_marketing]
    week = _WEEK.total_seconds()
    if _over_cap([p.started_at.timestamp() for p in marketing], t, 2, week):
        found.add("frequency_cap")
    calls = [p.started_at.timestamp() for p in marketing if p.channel == Channel.OUTBOUND_CALL]
    if c.channel == Channel.OUTBOUND_CALL and _over_cap(calls, t, 1, week):
        found.add("frequency_cap")
    if any(abs(p.started_at.timestamp() - t) < _GAP.total_seconds() for p in marketing):
        found.add("min_gap")
    hour = c.started_at.astimezone(_SHANGHAI).hour
    if c.channel.value in _QUIET and (hour >= 21 or hour < 9):
        found.add("quiet_hours")
    if who.do_not_contact:
        found.add("do_not_contact")
    asked = any(
        p.channel == c.channel
        and p.result_code == ResultCode.DO_NOT_CONTACT_REQUESTED
        and p.started_at <= c.started_at
        for p in prior
    )
    blanket = who.is_sensitive and not who.sensitive_channels
    if asked or blanket or c.channel in (*who.sensitive_channels, *who.consent_opt_out):
        found.add("sensitive_channel")
    declined = {
        r.offer_id
        for p in prior
        if p.started_at <= c.started_at < p.started_at + _COOL
        for r in p.reactions
        if r.reaction == Reaction.DECLINE
    }
    if any(r.offer_id in declined for r in c.reactions):
        found.add("suppressed")
    return found


def _ledger(
    url: str, contact_ids: Collection[str]
) -> tuple[dict[str, list[tuple[int, Contact]]], dict[str, CustomerAttributes]]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            mine = select(m.Contact.customer_id).where(m.Contact.contact_id.in_(list(contact_ids)))
            touched = set(session.scalars(mine))
            rows = session.execute(
                select(m.Contact.row, m.Contact.server_seq).where(
                    m.Contact.customer_id.in_(touched)
                )
            ).all()
            people = session.execute(
                select(m.Customer.customer_id, m.Customer.row).where(
                    m.Customer.customer_id.in_(touched)
                )
            ).all()
    finally:
        engine.dispose()
    by_customer: dict[str, list[tuple[int, Contact]]] = {}
    for row, seq in rows:
        contact = from_row({k: v for k, v in row.items() if k != "result"}, Contact)
        by_customer.setdefault(contact.customer_id, []).append((seq or 0, contact))
    attrs = {
        r.customer_id: from_row(r.row.get("attributes", r.row), CustomerAttributes) for r in people
    }
    return by_customer, attrs


def verdict(
    url: str, made_online: Mapping[str, bool], flagged: Mapping[str, set[str]]
) -> dict[str, int]:
    """Judge the simulated contacts of the final ledger (see :data:`VERDICT_KEYS`).

    Args:
        url: the central store.
        made_online: contact id → whether an online agent made it.
        flagged: contact id → conflict types the server answered at push.
    """
    by_customer, people = _ledger(url, made_online.keys())
    counts = Counter[str]()
    for customer_id, rows in by_customer.items():
        rows.sort(key=lambda r: (r[0], r[1].contact_id))
        for n, (_, contact) in enumerate(rows):
            if contact.contact_id not in made_online:
                continue
            expected = oracle_conflicts(contact, [c for _, c in rows[:n]], people[customer_id])
            server = flagged.get(contact.contact_id, set())
            counts["flag_mismatches"] += expected != server
            counts["server_flagged"] += bool(server)
            if made_online[contact.contact_id]:
                counts["violations_online"] += bool(expected or server)
            elif expected:
                counts["offline_conflicts"] += 1
                counts["offline_conflicts_flagged"] += bool(server)
    return {key: counts[key] for key in VERDICT_KEYS}
