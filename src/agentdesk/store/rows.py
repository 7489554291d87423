"""Wire rows (TEAM-CONTRACTS.md "Shared facts") to cache-table parameters, per entity.

Each ``*_params`` function turns one pulled ``Change`` (its ``id``, ``seq`` and ``row``) into
the parameter tuple of its table's upsert; :data:`UPSERTS` holds the SQL. The upserts only
overwrite when the incoming ``row_seq`` is at least the stored one, so replaying a page is
harmless and an older row never replaces a newer one (SYNC.md §4).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from agentdesk.domain import Channel, CustomerAttributes, CustomerView, ResultCode
from agentdesk.protocol import Change, to_row
from agentdesk.store.codec import dumps, ts_text
from agentdesk.store.names import name_chars, name_head, name_pinyin

__all__ = ["DELETES", "PARAMS", "UPSERTS", "compact", "compact_customer_row"]

Params = tuple[Any, ...]
_MISSING = object()


def _upsert(table: str, key: str, columns: tuple[str, ...]) -> str:
    cols = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT({key}) DO UPDATE SET {sets} "
        f"WHERE excluded.row_seq >= {table}.row_seq"
    )


@functools.cache
def _customer_defaults() -> dict[str, Any]:
    blank = CustomerView(attributes=CustomerAttributes(customer_id="", msisdn="", name=""))
    return to_row(blank)


_ALWAYS = frozenset({"customer_id", "msisdn", "name"})


def compact(row: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``row`` without the fields equal to the dataclass defaults (``from_row`` restores them).

    A 1 M-customer cache shrinks several-fold (the wire row carries every IVOC field), and
    with it every full-table step: snapshot index builds, the FTS rebuild, backups. Nested
    dataclass blocks (``attributes``, ``value``, ``churn``) are compacted one level down.
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        default = defaults.get(key, _MISSING)
        if type(value) is dict and type(default) is dict and default:
            get = default.get
            inner = {k: v for k, v in value.items() if k in _ALWAYS or v != get(k, _MISSING)}
            if inner:
                out[key] = inner
        elif key in _ALWAYS or value != default:
            out[key] = value
    return out


def compact_customer_row(row: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a pulled ``customer`` row (see :func:`compact`)."""
    return compact(row, _customer_defaults())


def _customer(ch: Change, synced_at: str) -> Params:
    row = ch.row or {}
    a = row.get("attributes", {})
    value = row.get("value", {})
    churn = row.get("churn", {})
    name = a.get("name", "")
    id_number = str(a.get("id_number", "")).upper()  # a trailing check letter is searched as X
    return (
        ch.id, a.get("msisdn", ""), id_number, id_number[::-1], name, name_chars(name),
        name_pinyin(name), name_head(name), a.get("region_code", ""), a.get("segment_id", ""),
        a.get("account_manager_id"), a.get("value_class", ""), a.get("vip_level", ""),
        value.get("value_tier", 3), value.get("arpu_3m", 0.0), churn.get("risk_score", 0.0),
        churn.get("risk_level", "low"), a.get("number_status", ""),
        dumps(compact_customer_row(row)), ch.seq, synced_at,
    )  # fmt: skip


def _holding(ch: Change, _at: str) -> Params:
    row = ch.row or {}
    return (ch.id, row.get("customer_id", ""), dumps(row), ch.seq)


def _usage(ch: Change, _at: str) -> Params:
    row = ch.row or {}
    customer_id, _, month = ch.id.partition(":")
    cid = row.get("customer_id", customer_id)
    return (ch.id, cid, row.get("month", month), dumps(row), ch.seq)


def _campaign(ch: Change, _at: str) -> Params:
    row = ch.row or {}
    return (ch.id, row.get("status", "active"), dumps(row), ch.seq)


def _offer(ch: Change, _at: str) -> Params:
    row = ch.row or {}
    return (ch.id, row.get("campaign_id", ""), dumps(row), ch.seq)


def _target(ch: Change, _at: str) -> Params:
    row = ch.row or {}
    campaign_id, _, customer_id = ch.id.partition(":")
    return (
        ch.id, row.get("campaign_id", campaign_id), row.get("customer_id", customer_id),
        bool(row.get("in_control_group", False)), row.get("wave", 1),
        row.get("assigned_channel"), row.get("score", 0.0), dumps(row), ch.seq,
    )  # fmt: skip


def _order(ch: Change, _at: str) -> Params:
    row = ch.row or {}
    return (
        ch.id, row.get("customer_id", ""), row.get("campaign_id", ""),
        row.get("status", "open"), dumps(row), ch.seq,
    )  # fmt: skip


_WE_START: dict[str, bool] = {c.value: not c.customer_initiated for c in Channel}
_REACHED: dict[str, bool] = {r.value: r.reached for r in ResultCode}


def _contact(ch: Change, _at: str) -> Params:
    row = ch.row or {}
    result = row.get("result")
    campaign_id = row.get("campaign_id")
    reactions = row.get("reactions") or []
    channel = row.get("channel", "")
    code = row.get("result_code", "")
    started_by_us, reached = _WE_START.get(channel), _REACHED.get(code)
    if started_by_us is None or reached is None:  # a value this build does not know
        started_by_us, reached = False, False
    return (
        ch.id, row.get("customer_id", ""), channel, row.get("staff_id", ""), campaign_id,
        ts_text(row.get("started_at")) or "", code,
        bool(campaign_id or reactions or started_by_us), reached,
        dumps(row), None if result is None else dumps(result), row.get("server_seq") or ch.seq,
        ch.seq, "server",
    )  # fmt: skip


def _claim(ch: Change, _at: str) -> Params:
    row = ch.row or {}
    return (
        ch.id, row.get("claim_id", ""), row.get("holder_id", ""), row.get("channel", ""),
        row.get("fence", 0), ts_text(row.get("lease_until")) or "", dumps(row), ch.seq,
    )  # fmt: skip


def _rule_set(ch: Change, _at: str) -> Params:
    return (int(ch.id), dumps(ch.row or {}), ch.seq)


def _redirect(ch: Change, _at: str) -> Params:
    return (ch.id, (ch.row or {}).get("new_id", ""), ch.seq)


_CUSTOMER_COLS = (
    "customer_id", "msisdn", "id_number", "id_rev", "name", "name_chars", "name_pinyin",
    "name_head", "region_code", "segment_id", "account_manager_id", "value_class", "vip_level",
    "value_tier", "arpu_3m", "churn_risk", "churn_level", "number_status", "row", "row_seq",
    "synced_at",
)  # fmt: skip
_CONTACT_COLS = (
    "contact_id", "customer_id", "channel", "staff_id", "campaign_id", "started_at",
    "result_code", "is_marketing", "reached", "row", "result", "server_seq", "row_seq", "origin",
)  # fmt: skip
_TARGET_COLS = (
    "target_id", "campaign_id", "customer_id", "in_control_group", "wave", "assigned_channel",
    "score", "row", "row_seq",
)  # fmt: skip
_CLAIM_COLS = (
    "customer_id", "claim_id", "holder_id", "channel", "fence", "lease_until", "row", "row_seq",
)  # fmt: skip

UPSERTS: dict[str, str] = {
    "customer": _upsert("customer", "customer_id", _CUSTOMER_COLS),
    "holding": _upsert("holding", "holding_id", ("holding_id", "customer_id", "row", "row_seq")),
    "usage": _upsert(
        "usage_month", "usage_id", ("usage_id", "customer_id", "month", "row", "row_seq")
    ),
    "campaign": _upsert("campaign", "campaign_id", ("campaign_id", "status", "row", "row_seq")),
    "offer": _upsert("offer", "offer_id", ("offer_id", "campaign_id", "row", "row_seq")),
    "target": _upsert("target_member", "target_id", _TARGET_COLS),
    "order": _upsert(
        "marketing_order",
        "order_id",
        ("order_id", "customer_id", "campaign_id", "status", "row", "row_seq"),
    ),
    "contact": _upsert("contact", "contact_id", _CONTACT_COLS),
    "claim": _upsert("claim_active", "customer_id", _CLAIM_COLS),
    "rule_set": _upsert("rule_set", "version", ("version", "row", "row_seq")),
    "redirect": _upsert("redirect", "old_id", ("old_id", "new_id", "row_seq")),
}

PARAMS: dict[str, Callable[[Change, str], Params]] = {
    "customer": _customer,
    "holding": _holding,
    "usage": _usage,
    "campaign": _campaign,
    "offer": _offer,
    "target": _target,
    "order": _order,
    "contact": _contact,
    "claim": _claim,
    "rule_set": _rule_set,
    "redirect": _redirect,
}

DELETES: dict[str, str] = {
    "customer": "DELETE FROM customer WHERE customer_id = ? AND row_seq <= ?",
    "holding": "DELETE FROM holding WHERE holding_id = ? AND row_seq <= ?",
    "usage": "DELETE FROM usage_month WHERE usage_id = ? AND row_seq <= ?",
    "campaign": "DELETE FROM campaign WHERE campaign_id = ? AND row_seq <= ?",
    "offer": "DELETE FROM offer WHERE offer_id = ? AND row_seq <= ?",
    "target": "DELETE FROM target_member WHERE target_id = ? AND row_seq <= ?",
    "order": "DELETE FROM marketing_order WHERE order_id = ? AND row_seq <= ?",
    "contact": "DELETE FROM contact WHERE contact_id = ? AND row_seq <= ? AND origin = 'server'",
    "claim": "DELETE FROM claim_active WHERE customer_id = ? AND row_seq <= ?",
    "rule_set": "DELETE FROM rule_set WHERE version = CAST(? AS INTEGER) AND row_seq <= ?",
    "redirect": "DELETE FROM redirect WHERE old_id = ? AND row_seq <= ?",
}
