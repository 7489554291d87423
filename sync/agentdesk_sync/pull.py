"""``GET /v1/sync/pull``: snapshot pages of the caller's scope, then the change feed (docs/sync.md).

The cursor is opaque to clients: url-safe base64 of ``{"e": epoch, "s": seq, "p": page key,
"h": snapshot high-water, "t": total, "d": done, "r": changes per customer so far}``.

* empty cursor: a snapshot starts. The change-log high-water ``h`` is recorded first, then the
  global entities (rule set, campaigns, offers) and the scope's customers, keyset-paginated by
  ``customer_id`` with their holdings, usage (all months in one change), targets, orders, active
  claim and last 90 days of contacts. Every page's cursor resumes after its last customer. After
  the last page the cursor switches to the change feed from ``h`` (rows newer than ``h`` inside
  pages are harmless: the client keeps the larger ``row_seq``).
* change feed: ``change_log`` rows with ``server_seq > s`` up to the high-water read *before*
  the page, filtered to the scope. Sequence numbers are taken last under the sequencer row lock,
  so every seq at or below an observed high-water is committed: nothing is skipped. A customer
  ``put`` logged without a row (the bulk import writes such reference entries) is sent with the
  customer's current row, read by a join; one whose customer is gone (its tombstone follows) or
  now outside the caller's scope is left out.

Rows go out as stored: every table keeps an entity's wire JSON in its ``row`` column, which is
read as text and spliced into the answer (:class:`msgspec.Raw`), never parsed and re-encoded. A
snapshot page is one statement: for each of its customers the database writes the customer's
change JSON and, per kind of child row, the count and the comma-joined change JSON of its rows
(concatenation, ``json_quote``/``to_json`` for the id, ``group_concat``/``string_agg``), so
Python only slices and joins a few bytes objects per customer (bytes on SQLite, text on
PostgreSQL) and never builds one object per change. The answer is the bytes msgspec wrote for
:class:`RawPullPage` when Python built each change (compared on a whole 100 k-customer
snapshot, SQLite and PostgreSQL). The number of customers per page
follows the changes per customer seen on the previous page (``r``), so a page lands near
``limit`` without reading children it then throws away.

A cursor that cannot be parsed is 400 ``invalid_cursor``; one of another epoch or older than the
retention floor is 409 ``reset_required``.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Integer,
    LargeBinary,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.protocol.raw import NULL_ROW, RawChange, RawPullPage
from agentdesk_sync.api.items import high_water
from agentdesk_sync.api.loaders import HISTORY_DAYS, claim_row
from agentdesk_sync.api.wire import utcnow
from agentdesk_sync.auth import Principal
from agentdesk_sync.db import models as m
from agentdesk_sync.errors import ApiError
from agentdesk_sync.scope import change_scope, customer_scope, scope_params, visible_clause

__all__ = ["Cursor", "decode_cursor", "encode_cursor", "pull"]

_FIRST_BATCH_SHARE = 4  # first page: limit // 4 customers; later pages use the cursor's ``r``


class Cursor(msgspec.Struct, omit_defaults=True):
    """The decoded pull cursor."""

    e: str
    s: int
    p: str | None = None
    h: int | None = None
    t: int | None = None
    d: int = 0
    r: int | None = None


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
    if cursor.s < 0 or cursor.d < 0 or (cursor.r is not None and cursor.r < 1):
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
) -> bytes:
    """One page of the caller's feed, as the JSON body of the answer."""
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
    page = await _feed_page(conn, principal, cursor, limit)
    return msgspec.json.encode(page, order="deterministic")


def _raw(text: str | None) -> msgspec.Raw:
    return NULL_ROW if text is None else msgspec.Raw(text)


def _json(column: Any) -> Any:
    """A JSON column read as its stored text (no parse on the way out)."""
    return cast(column, Text)


def _resolved(principal: Principal, region: str | None) -> bool:
    """Whether the current customer row a reference resolved to is in the caller's scope."""
    if principal.sees_all or principal.uses_portfolio:  # a portfolio is by customer id
        return True
    return region in principal.regions


async def _feed_page(
    conn: AsyncConnection, principal: Principal, cursor: Cursor, limit: int
) -> RawPullPage:
    hw = await high_water(conn)
    log, c = m.ChangeLog, m.Customer
    # a customer ``put`` logged without its row (the bulk import) refers to the customer's
    # current row, read here (docs/sync.md "Reference entries")
    ref = and_(log.entity == "customer", log.op == "put", log.row.is_(None))
    stmt = (
        select(
            log.server_seq,
            log.entity,
            log.op,
            log.entity_id,
            _json(log.row),
            _json(c.row),
            c.region_code,
            ref,
        )
        .outerjoin(c, and_(ref, c.customer_id == log.entity_id))
        .where(log.server_seq > cursor.s, log.server_seq <= hw, change_scope(principal))
        .order_by(log.server_seq)
        .limit(limit + 1)
    )
    rows = (await conn.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = []
    for seq, entity, op, eid, row, current, region, is_ref in rows:
        if is_ref:  # gone (a tombstone follows) or moved out of scope: nothing to send
            if current is None or not _resolved(principal, region):
                continue
            row = current
        changes.append(RawChange(seq=seq, entity=entity, op=op, id=eid, row=_raw(row)))
    last = rows[-1][0] if more else max(hw, cursor.s)
    nxt = Cursor(e=cursor.e, s=last)
    return RawPullPage(changes=changes, cursor=encode_cursor(nxt), up_to_date=not more)


async def _globals(conn: AsyncConnection) -> list[RawChange]:
    out: list[RawChange] = []
    rules = (
        await conn.execute(
            select(m.RuleSet.version, _json(m.RuleSet.rules))
            .order_by(m.RuleSet.version.desc())
            .limit(1)
        )
    ).first()
    if rules is not None:
        out.append(RawChange(seq=0, entity="rule_set", op="put", id=str(rules[0]),
                              row=_raw(rules[1])))  # fmt: skip
    campaigns = select(m.Campaign.campaign_id, _json(m.Campaign.row), m.Campaign.row_seq)
    for cid, row, seq in (await conn.execute(campaigns.order_by(m.Campaign.campaign_id))).all():
        out.append(RawChange(seq=seq, entity="campaign", op="put", id=cid, row=_raw(row)))
    offers = select(m.Offer.offer_id, _json(m.Offer.row), m.Offer.row_seq)
    for oid, row, seq in (await conn.execute(offers.order_by(m.Offer.offer_id))).all():
        out.append(RawChange(seq=seq, entity="offer", op="put", id=oid, row=_raw(row)))
    return out


class _Page(msgspec.Struct, kw_only=True):
    """A snapshot page whose ``changes`` array is already JSON: :class:`RawPullPage`'s fields
    in its order, so the encoded answer is the same bytes."""

    changes: msgspec.Raw
    cursor: str
    up_to_date: bool
    checksum: dict[str, Any] | None = None
    progress: dict[str, int] | None = None


def _text(value: str) -> ColumnElement[str]:
    """A constant string written into the statement (no bind parameter)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


def _quoted(dialect: str, value: Any) -> ColumnElement[str]:
    """``value`` as a JSON string, escaped by the database."""
    if dialect == "postgresql":
        return cast(func.to_json(value), Text)
    return func.json_quote(value, type_=Text)


def _change(
    dialect: str,
    entity: str,
    id_: Any,
    row: Any,
    seq: Any,
) -> ColumnElement[str]:
    """One change as JSON, written by the database: the bytes msgspec writes for a
    :class:`RawChange` (``seq`` 0 when None) with ``row`` spliced in as stored."""
    head = _text('{"seq":0' if seq is None else '{"seq":')
    if seq is not None:
        head = head.concat(cast(seq, Text))
    return (
        head.concat(_text(f',"entity":"{entity}","op":"put","id":'))
        .concat(_quoted(dialect, id_))
        .concat(_text(',"row":'))
        .concat(row)
        .concat(_text("}"))
    )


def _with_result(row: str, result: str | None) -> msgspec.Raw:
    """A stored contact row with the service's ``result`` added as its last key."""
    body = row.rstrip()
    if not body.endswith("}"):  # not an object: cannot happen for rows the service wrote
        parsed = {**msgspec.json.decode(row), "result": msgspec.json.decode(result or "null")}
        return msgspec.Raw(msgspec.json.encode(parsed))
    head = body[:-1].rstrip()
    sep = "" if head.endswith("{") else ","
    return msgspec.Raw(f'{head}{sep}"result":{"null" if result is None else result}}}')


def _contact_row(dialect: str) -> tuple[ColumnElement[bool], ColumnElement[str]]:
    """(whether the database splices ``result`` into a contact's row as its last key, as
    :func:`_with_result` writes it; the spliced row, NULL where it does not).

    On PostgreSQL every object is spliced (``jsonb`` text ends in ``}`` right after a value
    or the ``{``); on SQLite a row that ends in ``}`` right after a value (not ``{}``, no
    trailing blanks), compared and cut as bytes.
    """
    c = m.Contact
    result = func.coalesce(cast(c.result, Text), _text("null"))
    if dialect == "postgresql":
        sep = case((c.row == literal_column("'{}'::jsonb"), _text("")), else_=_text(","))
        head = func.left(cast(c.row, Text), -1, type_=Text).concat(sep)
        ok: ColumnElement[bool] = func.jsonb_typeof(c.row) == "object"
    else:
        raw = cast(c.row, LargeBinary)
        before_last: list[Any] = [literal_column(f"X'{b}'") for b in ("7B", "20", "09", "0A", "0D")]
        ok = and_(
            func.substr(raw, -1) == literal_column("X'7D'"),  # "}" after none of "{ \t\n\r"
            func.substr(raw, -2, 1).not_in(before_last),
        )
        head = cast(func.substr(raw, 1, func.length(raw) - 1), Text).concat(_text(","))
    spliced = head.concat(_text('"result":')).concat(result).concat(_text("}"))
    return ok, case((ok, spliced))


def _joined(dialect: str, value: Any, order: Any) -> Any:
    """``value`` of every row of an aggregate, comma-joined in ``order``."""
    if dialect == "postgresql":
        return func.string_agg(value, _text(",")).aggregate_order_by(order)
    # SQLite < 3.44 has no ORDER BY in an aggregate: the rows come in index order
    return func.group_concat(value, _text(","))


def _per_customer(dialect: str, value: Any, *where: Any) -> Any:
    """The scalar subquery's select of ``value`` (bytes on SQLite, text on PostgreSQL)."""
    return select(value if dialect == "postgresql" else cast(value, LargeBinary)).where(*where)


def _kind(
    dialect: str, change: ColumnElement[str], order: Any, *where: Any, built: Any = None
) -> Any:
    """One kind of child rows of the statement's customer, as one value: ``rows,built,``
    followed by the changes the database built (:func:`_change`), comma-separated, in
    ``order``. ``built`` (how many rows ``change`` is not NULL for) is given only where it
    can be NULL (see :func:`_contact_row`); each expression is computed once per row."""
    rows = cast(func.count(), Text)
    counts = rows.concat(_text(",")).concat(rows if built is None else cast(built, Text))
    value = counts.concat(_text(",")).concat(
        func.coalesce(_joined(dialect, change, order), _text(""))
    )
    return _per_customer(dialect, value, *where)


def _usage_kind(dialect: str, customer_id: Any) -> Any:
    """The customer's usage months as ONE change (``usage_months``, id = customer id, row
    ``{"customer_id", "months": [month rows, oldest first]}``), in :func:`_kind`'s form:
    ``1,1,`` and the change, or ``0,0,`` for a customer without months. Half of a snapshot's
    rows are months; one change a customer spares a change's building, decoding and insert
    per month (docs/sync.md, "A customer's months in one change"). On SQLite the months come
    in the primary key's order (customer_id, month)."""
    u = m.UsageMonth
    months = (
        _text('{"customer_id":').concat(_quoted(dialect, customer_id))
        .concat(_text(',"months":[')).concat(_joined(dialect, _json(u.row), u.month))
        .concat(_text("]}"))
    )  # fmt: skip
    change = _change(dialect, "usage_months", customer_id, months, None)
    value = case((func.count() > 0, _text("1,1,").concat(change)), else_=_text("0,0,"))
    return _per_customer(dialect, value, u.customer_id == customer_id)


def _page_ids(kind: str) -> Any:
    """The ids of a snapshot page: the first ``batch`` customers of the scope after ``after``
    (parameters as :func:`~agentdesk_sync.scope.scope_params`, plus ``after`` and ``batch``).

    Found in an index alone (ix_customer_region_customer for a region scope) before any row
    is read: reading ``row`` for every remaining customer of the scope and sorting them cost
    ~0.5 s a page on a 1 M-customer store.
    """
    c = m.Customer
    return (
        select(c.customer_id)
        .where(visible_clause(kind), c.customer_id > bindparam("after"))
        .order_by(c.customer_id)
        .limit(bindparam("batch", type_=Integer))
        .correlate(None)
        .scalar_subquery()
    )


@functools.cache
def _page_statement(dialect: str, kind: str) -> Any:
    """The customers of a page (:func:`_page_ids`) in id order, each with its change and its
    child rows' changes by kind (holdings, usage (one change), targets, orders, contacts; those
    of the last 90 days from ``since``): one statement, built once per database and scope kind,
    that has the database write every change."""
    c, h, t, o, k = m.Customer, m.Holding, m.TargetMember, m.MarketingOrder, m.Contact
    customer = _change(dialect, "customer", c.customer_id, _json(c.row), c.row_seq)
    spliced, contact = _contact_row(dialect)
    contact_change = _change(dialect, "contact", k.contact_id, contact, k.server_seq)
    target_id = t.campaign_id.concat(_text(":")).concat(t.customer_id)
    kinds = (
        _kind(dialect, _change(dialect, "holding", h.holding_id, _json(h.row), h.row_seq),
              h.holding_id, h.customer_id == c.customer_id),
        _usage_kind(dialect, c.customer_id),
        _kind(dialect, _change(dialect, "target", target_id, _json(t.row), t.row_seq),
              t.campaign_id, t.customer_id == c.customer_id),
        _kind(dialect, _change(dialect, "order", o.order_id, _json(o.row), o.row_seq),
              o.order_id, o.customer_id == c.customer_id),
        _kind(dialect, contact_change, k.started_at, k.customer_id == c.customer_id,
              k.started_at >= bindparam("since"), built=func.count(case((spliced, 1)))),
    )  # fmt: skip
    first = customer if dialect == "postgresql" else cast(customer, LargeBinary)
    return (
        select(c.customer_id, first, *(sub.scalar_subquery() for sub in kinds))
        .where(c.customer_id.in_(_page_ids(kind)))
        .order_by(c.customer_id)
    )


def _split(value: str | bytes) -> tuple[int, int, bytes]:
    """(rows, changes built, the changes) of a :func:`_kind` value."""
    body = value.encode() if isinstance(value, str) else value  # text on PostgreSQL
    first = body.index(b",")
    second = body.index(b",", first + 1)
    return int(body[:first]), int(body[first + 1 : second]), body[second + 1 :]


@functools.cache
def _claims_statement() -> Any:
    claim = m.Claim
    return select(claim).where(
        claim.customer_id.in_(bindparam("ids", expanding=True)),
        claim.lease_until > bindparam("now"),
    )


async def _claims(conn: AsyncConnection, ids: list[str], now: datetime) -> dict[str, bytes]:
    """The change of each active claim on the page's customers (the ids the page read: looking
    them up again could see a customer committed since and miss the last one's claim)."""
    out: dict[str, bytes] = {}
    for r in (await conn.execute(_claims_statement(), {"ids": ids, "now": now})).all():
        row = msgspec.Raw(msgspec.json.encode(claim_row(r)))
        change = RawChange(seq=0, entity="claim", op="put", id=r.customer_id, row=row)
        out[r.customer_id] = msgspec.json.encode(change)
    return out


async def _contacts_by_hand(conn: AsyncConnection, customer_id: str, since: datetime) -> bytes:
    """A customer's contact changes written here (a row the database did not splice)."""
    c = m.Contact
    stmt = (
        select(c.contact_id, _json(c.row), _json(c.result), c.server_seq)
        .where(c.customer_id == customer_id, c.started_at >= since)
        .order_by(c.started_at)
    )
    changes = [
        RawChange(seq=seq, entity="contact", op="put", id=kid, row=_with_result(row, result))
        for kid, row, result, seq in (await conn.execute(stmt)).all()
    ]
    return msgspec.json.encode(changes)[1:-1]


async def _snapshot_page(
    conn: AsyncConnection, principal: Principal, cursor: Cursor, limit: int
) -> bytes:
    assert cursor.h is not None
    parts: list[bytes] = []
    if cursor.p is None:
        parts = [msgspec.json.encode(change) for change in await _globals(conn)]
    batch = max(1, limit // (cursor.r or _FIRST_BATCH_SHARE))
    kind, params = scope_params(principal)
    now = utcnow()
    since = now - timedelta(days=HISTORY_DAYS)
    params |= {"after": cursor.p or "", "batch": batch, "since": since, "now": now}
    stmt = _page_statement(conn.dialect.name, kind)
    rows = (await conn.execute(stmt, params)).all()
    claims = await _claims(conn, [r[0] for r in rows], now) if rows else {}
    last, done, taken, start = cursor.p, cursor.d, 0, len(parts)
    count = start
    for cid, customer, *kinds in rows:
        parts.append(customer.encode() if isinstance(customer, str) else customer)
        count += 1
        for i, value in enumerate(kinds):
            if i == len(kinds) - 1 and cid in claims:  # a claim goes right before contacts
                parts.append(claims[cid])
                count += 1
            n, built, changes = _split(value)
            if n:
                count += n
                parts.append(changes if built == n else await _contacts_by_hand(conn, cid, since))
        last, done, taken = cid, done + 1, taken + 1
        if count >= limit:
            break
    total = cursor.t if cursor.t is not None else done
    progress = {"done": done, "total": max(total, done)}
    if len(rows) < batch and last == (rows[-1][0] if rows else cursor.p):
        nxt = Cursor(e=cursor.e, s=cursor.h)  # snapshot finished: replay the feed from h
    else:
        per = -(-(count - start) // max(taken, 1))  # ceil: rather short than wasted
        nxt = Cursor(e=cursor.e, s=cursor.h, p=last or "", h=cursor.h, t=cursor.t, d=done,
                     r=max(1, per))  # fmt: skip
    if parts:  # the brackets go on the first and last part: no copy of the whole array
        parts[0] = b"[" + parts[0]
        parts[-1] += b"]"
    array = msgspec.Raw(b",".join(parts) if parts else b"[]")
    page = _Page(changes=array, cursor=encode_cursor(nxt), up_to_date=False, progress=progress)
    return msgspec.json.encode(page, order="deterministic")
