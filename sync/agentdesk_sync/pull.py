"""``GET /v1/sync/pull``: snapshot pages of the caller's scope, then the change feed (SYNC §3, §7).

The cursor is opaque to clients: url-safe base64 of ``{"e": epoch, "s": seq, "p": page key,
"h": snapshot high-water, "t": total, "d": done}``.

* empty cursor: a snapshot starts. The change-log high-water ``h`` is recorded first, then the
  global entities (rule set, campaigns, offers) and the scope's customers, keyset-paginated by
  ``customer_id`` with their holdings, usage, targets, orders, active claim and last 90 days of
  contacts. Every page's cursor resumes after its last customer. After the last page the cursor
  switches to the change feed from ``h`` (rows newer than ``h`` inside pages are harmless: the
  client keeps the larger ``row_seq``).
* change feed: ``change_log`` rows with ``server_seq > s`` up to the high-water read *before*
  the page, filtered to the scope. Sequence numbers are taken last under the sequencer row lock,
  so every seq at or below an observed high-water is committed: nothing is skipped.

A cursor that cannot be parsed is 400 ``invalid_cursor``; one of another epoch or older than the
retention floor is 409 ``reset_required``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.protocol import Change, PullResponse
from agentdesk_sync.api.items import high_water
from agentdesk_sync.api.loaders import HISTORY_DAYS, claim_row
from agentdesk_sync.api.wire import utcnow
from agentdesk_sync.auth import Principal
from agentdesk_sync.db import models as m
from agentdesk_sync.errors import ApiError
from agentdesk_sync.scope import change_scope, customer_scope

__all__ = ["Cursor", "decode_cursor", "encode_cursor", "pull"]


class Cursor(msgspec.Struct, omit_defaults=True):
    """The decoded pull cursor."""

    e: str
    s: int
    p: str | None = None
    h: int | None = None
    t: int | None = None
    d: int = 0


def encode_cursor(cursor: Cursor) -> str:
    """The opaque form of a cursor."""
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """Parse an opaque cursor.

    Raises:
        ApiError: 400 ``invalid_cursor``.
    """
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = msgspec.json.decode(raw, type=Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise ApiError(400, "invalid_cursor", "The cursor cannot be parsed.") from None
    if cursor.s < 0 or cursor.d < 0:
        raise ApiError(400, "invalid_cursor", "The cursor cannot be parsed.")
    return cursor


@dataclass(frozen=True, slots=True)
class _Meta:
    epoch: str
    floor: int


async def _meta(conn: AsyncConnection) -> _Meta:
    rows = (
        await conn.execute(
            select(m.Meta.key, m.Meta.value).where(m.Meta.key.in_(("epoch", "retention_floor")))
        )
    ).all()
    values = dict(rows)  # type: ignore[arg-type]
    return _Meta(str(values.get("epoch", "")), int(values.get("retention_floor", "0") or 0))


def _check(cursor: Cursor, meta: _Meta) -> None:
    seq = cursor.h if cursor.h is not None else cursor.s
    if cursor.e != meta.epoch or seq < meta.floor:
        details = {"epoch": meta.epoch, "retention_floor": meta.floor}
        raise ApiError(
            409,
            "reset_required",
            "The cursor is too old or from another store; start over.",
            details,
        )


async def pull(
    conn: AsyncConnection, principal: Principal, cursor_text: str | None, limit: int
) -> PullResponse:
    """One page of the caller's feed."""
    meta = await _meta(conn)
    if cursor_text:
        cursor = decode_cursor(cursor_text)
        _check(cursor, meta)
    else:
        hw = await high_water(conn)
        total = (
            await conn.execute(
                select(func.count()).select_from(m.Customer).where(customer_scope(principal))
            )
        ).scalar_one()
        cursor = Cursor(e=meta.epoch, s=hw, p=None, h=hw, t=int(total), d=0)
    if cursor.h is not None:
        return await _snapshot_page(conn, principal, cursor, limit)
    return await _feed_page(conn, principal, cursor, limit)


async def _feed_page(
    conn: AsyncConnection, principal: Principal, cursor: Cursor, limit: int
) -> PullResponse:
    hw = await high_water(conn)
    log = m.ChangeLog
    stmt = (
        select(log.server_seq, log.entity, log.op, log.entity_id, log.row)
        .where(log.server_seq > cursor.s, log.server_seq <= hw, change_scope(principal))
        .order_by(log.server_seq)
        .limit(limit + 1)
    )
    rows = (await conn.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [
        Change(seq=r.server_seq, entity=r.entity, op=r.op, id=r.entity_id, row=r.row) for r in rows
    ]
    last = rows[-1].server_seq if more else max(hw, cursor.s)
    nxt = Cursor(e=cursor.e, s=last)
    return PullResponse(changes=changes, cursor=encode_cursor(nxt), up_to_date=not more)


async def _globals(conn: AsyncConnection) -> list[Change]:
    out: list[Change] = []
    rules = (
        await conn.execute(
            select(m.RuleSet.version, m.RuleSet.rules).order_by(m.RuleSet.version.desc()).limit(1)
        )
    ).first()
    if rules is not None:
        out.append(
            Change(seq=0, entity="rule_set", op="put", id=str(rules.version), row=rules.rules)
        )
    for r in (
        await conn.execute(
            select(m.Campaign.campaign_id, m.Campaign.row, m.Campaign.row_seq).order_by(
                m.Campaign.campaign_id
            )
        )
    ).all():
        out.append(Change(seq=r.row_seq, entity="campaign", op="put", id=r.campaign_id, row=r.row))
    for r in (
        await conn.execute(
            select(m.Offer.offer_id, m.Offer.row, m.Offer.row_seq).order_by(m.Offer.offer_id)
        )
    ).all():
        out.append(Change(seq=r.row_seq, entity="offer", op="put", id=r.offer_id, row=r.row))
    return out


async def _children(conn: AsyncConnection, ids: list[str]) -> dict[str, list[Change]]:
    now = utcnow()
    by: dict[str, list[Change]] = {cid: [] for cid in ids}

    def add(cid: str, change: Change) -> None:
        by[cid].append(change)

    for r in (
        await conn.execute(
            select(
                m.Holding.customer_id, m.Holding.holding_id, m.Holding.row, m.Holding.row_seq
            ).where(m.Holding.customer_id.in_(ids))
        )
    ).all():
        add(
            r.customer_id,
            Change(seq=r.row_seq, entity="holding", op="put", id=r.holding_id, row=r.row),
        )
    usage = (
        select(m.UsageMonth.customer_id, m.UsageMonth.month, m.UsageMonth.row)
        .where(m.UsageMonth.customer_id.in_(ids))
        .order_by(m.UsageMonth.month)
    )
    for r in (await conn.execute(usage)).all():
        add(
            r.customer_id,
            Change(seq=0, entity="usage", op="put", id=f"{r.customer_id}:{r.month}", row=r.row),
        )
    for r in (
        await conn.execute(
            select(
                m.TargetMember.campaign_id,
                m.TargetMember.customer_id,
                m.TargetMember.row,
                m.TargetMember.row_seq,
            ).where(m.TargetMember.customer_id.in_(ids))
        )
    ).all():
        add(
            r.customer_id,
            Change(
                seq=r.row_seq,
                entity="target",
                op="put",
                id=f"{r.campaign_id}:{r.customer_id}",
                row=r.row,
            ),
        )
    for r in (
        await conn.execute(
            select(
                m.MarketingOrder.customer_id,
                m.MarketingOrder.order_id,
                m.MarketingOrder.row,
                m.MarketingOrder.row_seq,
            ).where(m.MarketingOrder.customer_id.in_(ids))
        )
    ).all():
        add(
            r.customer_id, Change(seq=r.row_seq, entity="order", op="put", id=r.order_id, row=r.row)
        )
    for r in (
        await conn.execute(
            select(m.Claim).where(m.Claim.customer_id.in_(ids), m.Claim.lease_until > now)
        )
    ).all():
        add(
            r.customer_id,
            Change(seq=0, entity="claim", op="put", id=r.customer_id, row=claim_row(r)),
        )
    since = now - timedelta(days=HISTORY_DAYS)
    contacts = (
        select(
            m.Contact.customer_id,
            m.Contact.contact_id,
            m.Contact.row,
            m.Contact.result,
            m.Contact.server_seq,
        )
        .where(m.Contact.customer_id.in_(ids), m.Contact.started_at >= since)
        .order_by(m.Contact.started_at)
    )
    for r in (await conn.execute(contacts)).all():
        row: dict[str, Any] = {**r.row, "result": r.result}
        add(
            r.customer_id,
            Change(seq=r.server_seq, entity="contact", op="put", id=r.contact_id, row=row),
        )
    return by


async def _snapshot_page(
    conn: AsyncConnection, principal: Principal, cursor: Cursor, limit: int
) -> PullResponse:
    assert cursor.h is not None
    changes = await _globals(conn) if cursor.p is None else []
    batch = max(1, limit // 4)
    stmt = select(m.Customer.customer_id, m.Customer.row, m.Customer.row_seq).where(
        customer_scope(principal)
    )
    if cursor.p is not None:
        stmt = stmt.where(m.Customer.customer_id > cursor.p)
    rows = (await conn.execute(stmt.order_by(m.Customer.customer_id).limit(batch))).all()
    children = await _children(conn, [r.customer_id for r in rows]) if rows else {}
    last, done = cursor.p, cursor.d
    for r in rows:
        changes.append(
            Change(seq=r.row_seq, entity="customer", op="put", id=r.customer_id, row=r.row)
        )
        changes.extend(children[r.customer_id])
        last, done = r.customer_id, done + 1
        if len(changes) >= limit:
            break
    total = cursor.t if cursor.t is not None else done
    progress = {"done": done, "total": max(total, done)}
    if len(rows) < batch and last == (rows[-1].customer_id if rows else cursor.p):
        nxt = Cursor(e=cursor.e, s=cursor.h)  # snapshot finished: replay the feed from h
    else:
        nxt = Cursor(e=cursor.e, s=cursor.h, p=last or "", h=cursor.h, t=cursor.t, d=done)
    return PullResponse(
        changes=changes, cursor=encode_cursor(nxt), up_to_date=False, progress=progress
    )
