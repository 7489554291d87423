"""Push items that are intents: ``callback``, ``visit_plan``, ``reaction``, ``feedback``.

An intent is stored in ``intent`` with a ``mutation_receipt`` (dedupe, ≥ 90 days). Unlike a
contact it can be refused: a call-back for a blocked customer or inside quiet hours answers
``rejected``/``policy_blocked`` with the policy's reasons, and that answer is itself recorded so
a replay gets the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import Connection, insert, select

from agentdesk.domain import Channel
from agentdesk.policy import Outcome, evaluate
from agentdesk.protocol import (
    CallbackPayload,
    FeedbackPayload,
    PushItem,
    PushResult,
    ReactionPayload,
    VisitPlanPayload,
)
from agentdesk_sync.api.items import (
    Reject,
    decode_payload,
    encode_result,
    high_water_sync,
    item_txn,
    rejected,
    replay,
)
from agentdesk_sync.api.loaders import HISTORY_DAYS, attributes_of, claims_of, history_of
from agentdesk_sync.api.wire import iso, parse_ts, utcnow
from agentdesk_sync.db import models as m
from agentdesk_sync.scope import CustomerRef, find_customer

if TYPE_CHECKING:
    from agentdesk_sync.ledger import PushContext

__all__ = ["HANDLERS"]

Handler = Callable[["PushContext", PushItem, str], PushResult]
Check = Callable[[Connection, "PushContext", Any], str | None]


def _scoped(conn: Connection, ctx: PushContext, customer_id: str) -> CustomerRef:
    ref = find_customer(conn, ctx.principal, customer_id)
    if ref is None:
        raise Reject(
            "invalid_payload", "Unknown customer.", {"fields": {"customer_id": "unknown customer"}}
        )
    if not ref.in_scope:
        raise Reject(
            "out_of_scope", "This customer is outside your scope.", {"customer_id": customer_id}
        )
    return ref


def _contacting(ctx: PushContext) -> None:
    if not ctx.principal.contacts_customers:
        raise Reject("forbidden", "Your role does not contact customers.")


def _check_callback(conn: Connection, ctx: PushContext, p: CallbackPayload) -> str:
    _contacting(ctx)
    try:
        due, channel = parse_ts(p.due_at), Channel(p.channel)
    except ValueError as exc:
        raise Reject(
            "invalid_payload", "The call-back is invalid.", {"fields": {"due_at/channel": str(exc)}}
        ) from exc
    ref = _scoped(conn, ctx, p.customer_id)
    history = history_of(conn, ref.customer_id, utcnow() - timedelta(days=HISTORY_DAYS))
    decision = evaluate(
        attributes_of(ref.row),
        channel,
        None,
        history,
        claims_of(conn, [ref.customer_id]),
        ctx.rules,
        due,
        user_id=ctx.principal.user_id,
    )
    codes = set(decision.codes)
    if decision.outcome is Outcome.BLOCKED or "quiet_hours" in codes or "do_not_contact" in codes:
        reasons = [
            {"code": r.code, "rule_id": r.rule_id, "detail": r.detail, "until": iso(r.until)}
            for r in decision.reasons
        ]
        raise Reject(
            "policy_blocked", "The call-back is not allowed then.", {"reasons": reasons}, store=True
        )
    return ref.customer_id


def _check_visit_plan(conn: Connection, ctx: PushContext, p: VisitPlanPayload) -> None:
    _contacting(ctx)
    outside = []
    for customer_id in p.customer_ids:
        ref = find_customer(conn, ctx.principal, customer_id)
        if ref is None or not ref.in_scope:
            outside.append(customer_id)
    if outside:
        raise Reject(
            "out_of_scope", "Some customers are outside your scope.", {"customer_ids": outside}
        )


def _check_reaction(conn: Connection, ctx: PushContext, p: ReactionPayload) -> str | None:
    _contacting(ctx)
    if p.customer_id is None:
        return None
    return _scoped(conn, ctx, p.customer_id).customer_id


def _check_feedback(conn: Connection, ctx: PushContext, p: FeedbackPayload) -> str:
    return _scoped(conn, ctx, p.customer_id).customer_id


def _receipt(conn: Connection, item: PushItem, digest: str) -> PushResult | None:
    stmt = select(
        m.MutationReceipt.payload_hash, m.MutationReceipt.response, m.MutationReceipt.server_seq
    )
    row = conn.execute(stmt.where(m.MutationReceipt.id == item.id)).first()
    if row is None:
        return None
    if row.payload_hash != digest:
        raise Reject(
            "idempotency_key_reuse",
            "This id was already used for a different item.",
            {"id": item.id},
        )
    return replay(row.response, row.server_seq)


def _store_receipt(
    conn: Connection, ctx: PushContext, item: PushItem, digest: str, result: PushResult
) -> None:
    conn.execute(
        insert(m.MutationReceipt).values(
            id=item.id,
            device_id=ctx.device_id,
            kind=item.kind,
            payload_hash=digest,
            status=result.status,
            response=encode_result(result),
            server_seq=result.server_seq or 0,
            created_at=utcnow(),
        )
    )


def _handler(cls: type[Any], check: Check) -> Handler:
    def handle(ctx: PushContext, item: PushItem, digest: str) -> PushResult:
        payload = decode_payload(item.payload, cls)
        with item_txn(ctx.state, ctx.events, ctx.outer) as conn:
            found = _receipt(conn, item, digest)
            if found is not None:
                return found
            try:
                customer_id = check(conn, ctx, payload)
            except Reject as exc:
                if not exc.store:
                    raise
                result = rejected(item.id, exc.code, exc.message, exc.details)
                _store_receipt(conn, ctx, item, digest, result)
                return result
            row = {**msgspec.to_builtins(payload), "user_id": ctx.principal.user_id}
            conn.execute(
                insert(m.Intent).values(
                    id=item.id,
                    kind=item.kind,
                    customer_id=customer_id,
                    user_id=ctx.principal.user_id,
                    status="open",
                    row=row,
                    created_at=utcnow(),
                )
            )
            result = PushResult(id=item.id, status="applied", server_seq=high_water_sync(conn))
            _store_receipt(conn, ctx, item, digest, result)
            return result

    return handle


HANDLERS: dict[str, Handler] = {
    "callback": _handler(CallbackPayload, _check_callback),
    "visit_plan": _handler(VisitPlanPayload, _check_visit_plan),
    "reaction": _handler(ReactionPayload, _check_reaction),
    "feedback": _handler(FeedbackPayload, _check_feedback),
}
