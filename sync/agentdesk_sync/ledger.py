"""``POST /v1/sync/push``: the contact ledger and the per-item push pipeline (SYNC.md §2, §5).

Items run in device ``seq`` order, each in its own transaction (on SQLite: its own SAVEPOINT of
one batch transaction, so a batch costs one commit):

1. dedupe by id (``contact.contact_id`` for facts, ``mutation_receipt`` for intents): the same id
   with the same payload hash answers ``duplicate`` with the original result; with another
   payload ``rejected``/``idempotency_key_reuse``;
2. scope: a customer outside the pusher's scope is ``rejected``/``out_of_scope``, nothing stored;
3. a contact is a fact: :func:`agentdesk.policy.check_contact` against the customer's last 90
   days and the claim (fence) only flags it (``applied_with_conflict``), never rejects it;
4. the ledger row, the claim release and the change-log rows commit together.

A database failure on an item answers ``retry`` and stops the batch: later items answer
``retry`` too, so a device's mutations are never applied out of order. If the SQLite batch
commit itself fails, every item answers ``retry`` (nothing was stored).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection, Select, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from agentdesk.domain import Channel, Claim, Contact, OfferReaction, Reaction, ResultCode
from agentdesk.policy import RuleSet, Violation, check_contact
from agentdesk.protocol import (
    Conflict,
    ConflictOther,
    ContactPayload,
    PushItem,
    PushRequest,
    PushResponse,
    PushResult,
    Reason,
    to_row,
)
from agentdesk_sync.api import intents
from agentdesk_sync.api.items import (
    Events,
    Reject,
    batch_txn,
    decode_payload,
    encode_result,
    high_water_sync,
    item_txn,
    payload_hash,
    publish_sync,
    rejected,
    replay,
    retry,
)
from agentdesk_sync.api.loaders import (
    HISTORY_DAYS,
    attributes_of,
    claim_of,
    claims_of,
    history_of,
    rules_now,
)
from agentdesk_sync.api.wire import iso, parse_ts, utcnow
from agentdesk_sync.auth import Principal
from agentdesk_sync.db import models as m
from agentdesk_sync.db.changes import ChangeRow
from agentdesk_sync.deps import AppState
from agentdesk_sync.errors import is_transient_db_error
from agentdesk_sync.scope import CustomerRef, find_customer, scope_params, visible_clause

__all__ = ["SCHEMAS", "PushContext", "conflict_of", "push"]

_LOG = logging.getLogger(__name__)
SCHEMAS = frozenset({1})
_DONE = ("applied", "applied_with_conflict", "duplicate")
_DEDUPE = select(m.Contact.payload_hash, m.Contact.result, m.Contact.server_seq).where(
    m.Contact.contact_id == bindparam("id")
)
_INSERT_CONTACT = insert(m.Contact)


@dataclass(frozen=True, slots=True)
class PushContext:
    """What every item of one push shares."""

    state: AppState
    principal: Principal
    device_id: str
    rules: RuleSet
    events: Events
    outer: Connection | None = None


async def push(state: AppState, principal: Principal, request: PushRequest) -> PushResponse:
    """Process a push batch and answer per item, in request order.

    The batch runs in one worker thread on the synchronous engine (one thread hop per batch);
    on SQLite under the app's write lock. Change announcements of SQLite commits are broadcast
    when the batch returns (PostgreSQL sent ``NOTIFY`` inside each transaction).
    """
    events: Events = []
    run = lambda: _run_batch(state, principal, request, events)  # noqa: E731
    if state.is_sqlite:
        async with state.write_lock:
            response = await anyio.to_thread.run_sync(run)
    else:
        response = await anyio.to_thread.run_sync(run)
    for seq, scopes in events:
        state.broadcaster.publish(seq, scopes)
    return response


def _run_batch(
    state: AppState, principal: Principal, request: PushRequest, events: Events
) -> PushResponse:
    try:
        with state.sync_engine.connect() as conn:
            rules = rules_now(conn, state)
    except DBAPIError as exc:
        if not is_transient_db_error(exc):
            raise
        return PushResponse(results=[retry(i.id) for i in request.items], write_checkpoint=0)
    ctx = PushContext(state, principal, request.device_id[:64], rules, events)
    try:
        with batch_txn(state, events) as outer:
            ordered = _run_items(dataclasses.replace(ctx, outer=outer), request)
    except DBAPIError as exc:  # the SQLite batch commit failed: nothing was stored
        if not is_transient_db_error(exc):
            raise
        _LOG.warning("push batch: commit failed, asking for retry: %s", exc)
        return PushResponse(results=[retry(i.id) for i in request.items], write_checkpoint=0)
    seqs = [r.server_seq for r in ordered if r.status in _DONE and r.server_seq]
    checkpoint = max(seqs) if seqs else _current_high_water(state)
    return PushResponse(results=ordered, write_checkpoint=checkpoint)


def _run_items(ctx: PushContext, request: PushRequest) -> list[PushResult]:
    order = sorted(range(len(request.items)), key=lambda i: request.items[i].seq)
    results: dict[int, PushResult] = {}
    stopped = False
    for index in order:
        item = request.items[index]
        results[index] = retry(item.id) if stopped else _process(ctx, item)
        stopped = stopped or results[index].status == "retry"
    return [results[i] for i in range(len(request.items))]


def _current_high_water(state: AppState) -> int:
    try:
        with state.sync_engine.connect() as conn:
            return high_water_sync(conn)
    except DBAPIError:
        return 0


Handler = Callable[[PushContext, PushItem, str], PushResult]


def _process(ctx: PushContext, item: PushItem) -> PushResult:
    if item.schema not in SCHEMAS:
        details: dict[str, object] = {"supported": sorted(SCHEMAS)}
        return rejected(item.id, "schema_unsupported", "Unsupported payload schema.", details)
    handler: Handler | None = (
        _contact if item.kind == "contact" else intents.HANDLERS.get(item.kind)
    )
    if handler is None:
        details = {"fields": {"kind": f"unknown kind {item.kind!r}"}}
        return rejected(item.id, "invalid_payload", "Unknown item kind.", details)
    for attempt in range(2):
        try:
            return handler(ctx, item, payload_hash(item))
        except Reject as exc:
            return rejected(item.id, exc.code, exc.message, exc.details)
        except IntegrityError:
            if attempt:  # a concurrent push of the same id won; the rerun finds it
                return retry(item.id)
        except Exception as exc:
            if not is_transient_db_error(exc):
                raise
            _LOG.warning("push item %s: database error, asking for retry: %s", item.id, exc)
            return retry(item.id)
    return retry(item.id)


def _parse(fields: dict[str, str], name: str, fn: Callable[[str], object], value: str) -> object:
    try:
        return fn(value)
    except (ValueError, TypeError):
        fields[name] = f"invalid value {value!r}"
        return None


def _contact_of(p: ContactPayload, item: PushItem, staff_id: str, customer_id: str) -> Contact:
    fields: dict[str, str] = {}
    values = {
        "channel": _parse(fields, "channel", Channel, p.channel),
        "result_code": _parse(fields, "result_code", ResultCode, p.result_code),
        "started_at": _parse(fields, "started_at", parse_ts, p.started_at),
        "ended_at": _parse(fields, "ended_at", parse_ts, p.ended_at),
    }
    if p.next_appointment_at:
        values["next_appointment_at"] = _parse(
            fields, "next_appointment_at", parse_ts, p.next_appointment_at
        )
    reactions = [
        (r, _parse(fields, f"reactions[{i}].reaction", Reaction, r.reaction))
        for i, r in enumerate(p.reactions)
    ]
    if p.contact_id != item.id:
        fields["contact_id"] = "must equal the item id"
    if fields:
        raise Reject("invalid_payload", "The contact payload is invalid.", {"fields": fields})
    return Contact(
        contact_id=item.id,
        customer_id=customer_id,
        staff_id=staff_id,
        campaign_id=p.campaign_id,
        opportunity_id=p.opportunity_id,
        note=p.note,
        reactions=tuple(
            OfferReaction(offer_id=r.offer_id, reaction=kind, campaign_id=r.campaign_id)  # type: ignore[arg-type]
            for r, kind in reactions
        ),
        **values,  # type: ignore[arg-type]
    )


def _existing(conn: Connection, item: PushItem, digest: str) -> PushResult | None:
    row = conn.execute(_DEDUPE, {"id": item.id}).first()
    return None if row is None else _replay_or_reuse(item, digest, row)


def _replay_or_reuse(item: PushItem, digest: str, row: Any) -> PushResult:
    if row.payload_hash != digest or row.result is None:
        details = {"id": item.id}
        raise Reject("idempotency_key_reuse", "This id was already used for another item.", details)
    return replay(row.result, row.server_seq)


@functools.cache
def _first_look_stmt(kind: str, lock: bool) -> Select[Any]:
    """One round trip: the customer (locked), its claim, and a ledger row with the item's id."""
    c, k, led = m.Customer, m.Claim, m.Contact
    stmt = (
        select(
            c.customer_id, c.region_code, c.row, c.row_seq, visible_clause(kind).label("visible"),
            led.payload_hash, led.result, led.server_seq, led.contact_id,
            k.claim_id, k.holder_id, k.channel, k.fence, k.lease_until, k.purpose,
            k.acquired_at,
        )
        .select_from(c)
        .outerjoin(k, k.customer_id == c.customer_id)
        .outerjoin(led, led.contact_id == bindparam("item_id"))
        .where(c.customer_id == bindparam("cid"))
    )  # fmt: skip
    return stmt.with_for_update(of=c) if lock else stmt


def _first_look(
    conn: Connection, ctx: PushContext, item: PushItem, customer_id: str, digest: str
) -> tuple[PushResult | None, CustomerRef | None, list[Claim]]:
    kind, params = scope_params(ctx.principal)
    stmt = _first_look_stmt(kind, conn.dialect.name == "postgresql")
    row = conn.execute(stmt, {**params, "cid": customer_id, "item_id": item.id}).first()
    if row is None:  # unknown or merged-away id: the slow path
        found = _existing(conn, item, digest)
        if found is not None:
            return found, None, []
        ref = find_customer(conn, ctx.principal, customer_id, lock=True)
        return None, ref, claims_of(conn, [ref.customer_id]) if ref else []
    if row.contact_id is not None:
        return _replay_or_reuse(item, digest, row), None, []
    ref = CustomerRef(row.customer_id, row.region_code, row.row, row.row_seq, bool(row.visible))
    claim = [] if row.claim_id is None else [claim_of(row)]  # joined on customer_id
    return None, ref, claim


def _contact(ctx: PushContext, item: PushItem, digest: str) -> PushResult:
    payload: ContactPayload = decode_payload(item.payload, ContactPayload)
    if not ctx.principal.contacts_customers:
        raise Reject("forbidden", "Your role does not record contacts.")
    _contact_of(payload, item, ctx.principal.user_id, payload.customer_id)  # validate first
    with item_txn(ctx.state, ctx.events, ctx.outer) as conn:
        found, ref, claims = _first_look(conn, ctx, item, payload.customer_id, digest)
        if found is not None:
            return found
        return _apply_contact(conn, ctx, item, payload, digest, ref, claims)


def _apply_contact(
    conn: Connection,
    ctx: PushContext,
    item: PushItem,
    payload: ContactPayload,
    digest: str,
    ref: CustomerRef | None,
    claims: list[Claim],
) -> PushResult:
    if ref is None:
        fields = {"customer_id": "unknown customer"}
        raise Reject("invalid_payload", "Unknown customer.", {"fields": fields})
    if not ref.in_scope:
        details = {"customer_id": ref.customer_id}
        raise Reject("out_of_scope", "This customer is outside your scope.", details)
    contact = _contact_of(payload, item, ctx.principal.user_id, ref.customer_id)
    now = utcnow()
    since = min(now, contact.started_at) - timedelta(days=HISTORY_DAYS)
    history = history_of(conn, ref.customer_id, since)
    current = claims[0] if claims else None
    violations = check_contact(
        contact,
        attributes_of(ref.row),
        history,
        claims,
        ctx.rules,
        fence=item.fence,
        current_fence=current.fence if current else None,
    )
    result = _result(item.id, violations, now)
    row = to_row(contact)
    values = _ledger_values(contact, row, digest, result, ctx.device_id, now)
    conn.execute(_INSERT_CONTACT, values)
    wire = {**row, "result": encode_result(result)}
    changes = [ChangeRow("contact", item.id, "put", wire, ref.region_code, ref.customer_id)]
    if payload.release_claim and current and current.holder_id == ctx.principal.user_id:
        changes.append(_release(conn, current.claim_id, ref.customer_id, ref.region_code, now))
    seqs = publish_sync(conn, changes)
    return PushResult(
        id=item.id, status=result.status, server_seq=seqs[0], conflict=result.conflict
    )


def _ledger_values(
    contact: Contact,
    row: dict[str, object],
    digest: str,
    result: PushResult,
    device_id: str,
    now: datetime,
) -> dict[str, object]:
    return {
        "contact_id": contact.contact_id,
        "customer_id": contact.customer_id,
        "channel": contact.channel.value,
        "staff_id": contact.staff_id,
        "campaign_id": contact.campaign_id,
        "started_at": contact.started_at,
        "ended_at": contact.ended_at,
        "result_code": contact.result_code.value,
        "is_marketing": contact.is_marketing,
        "reached": contact.reached,
        "row": row,
        "device_id": device_id,
        "payload_hash": digest,
        "result": encode_result(result),
        "server_seq": 0,
        "received_at": now,
    }


def _release(
    conn: Connection, claim_id: str, customer_id: str, region: str, now: datetime
) -> ChangeRow:
    mine = (m.Claim.customer_id == customer_id, m.Claim.claim_id == claim_id)
    stmt = update(m.Claim).where(*mine, m.Claim.lease_until > now).values(lease_until=now)
    conn.execute(stmt)
    return ChangeRow("claim", customer_id, "remove", None, region, customer_id)


def _result(item_id: str, violations: list[Violation], now: datetime) -> PushResult:
    if not violations:
        return PushResult(id=item_id, status="applied")
    conflict = conflict_of(violations, now)
    return PushResult(id=item_id, status="applied_with_conflict", conflict=conflict)


def conflict_of(violations: list[Violation], now: datetime) -> Conflict:
    """The structured conflict of a contact that broke policy (the first violation leads)."""
    first = violations[0]
    other = ConflictOther(
        channel=first.other_channel.value if first.other_channel else None,
        agent_id=first.other_agent_id,
        claim_until=iso(first.claim_until),
        contact_ids=list(first.other_contact_ids),
    )
    reasons = [
        Reason(
            code=v.type,
            rule_id=v.rule_id,
            detail={"limit": v.limit, "count_after": v.count_after, **v.detail},
        )
        for v in violations
    ]
    return Conflict(
        type=first.type,
        rule_id=first.rule_id,
        limit=first.limit or None,
        count_after=first.count_after,
        other=other,
        server_time=iso(now),
        reasons=reasons,
    )
