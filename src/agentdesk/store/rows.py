"""Wire rows to cache-table parameters, per entity.

Each function of :data:`PARAMS` turns one pulled change (its ``id``, ``seq`` and the row's JSON
exactly as it came over the wire) into the parameter tuple of its table's upsert; :data:`UPSERTS`
holds the SQL. Only the columns the cache indexes are decoded, each into a small typed struct
(msgspec skips every other field without building Python objects); the ``row`` column stores the
received JSON text as is: its UTF-8 bytes are bound and the SQL casts them to TEXT, so no Python
string is made of it (a first sync binds about 700 MB of rows: decoding them into ``str`` and
encoding them back to UTF-8 for SQLite cost seconds). The upserts only overwrite when the
incoming ``row_seq`` is at least the stored one, so replaying a page is harmless and an older row
never replaces a newer one (docs/sync.md).

Every parameter is of a type the ``sqlite3`` module binds directly (``int``, ``float``, ``str``,
``bytearray``): any other value (``None``, ``bool``, ``bytes``, :class:`msgspec.Raw`) first goes
through its adaptation lookup, which on Python 3.11 raises and discards an ``AttributeError``
per value (about 3,000 instructions: a quarter of a contact's insert; docs/sync.md). So rows
are bound as ``bytearray`` copies, flags as ``0``/``1``, and a missing value as :data:`NULL`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import msgspec

from agentdesk.domain import Channel, ResultCode
from agentdesk.store.codec import ts_text
from agentdesk.store.names import name_keys

__all__ = ["DELETES", "PARAMS", "UPSERTS", "Raw", "upsert_rows"]

Params = tuple[Any, ...]


_AS_TEXT = ("row", "result")  # bound as the received UTF-8 bytes, stored as TEXT


def _upsert(table: str, key: str, columns: tuple[str, ...], rows: int = 1) -> str:
    cols = ", ".join(columns)
    marks = ", ".join("CAST(? AS TEXT)" if c in _AS_TEXT else "?" for c in columns)
    values = ", ".join([f"({marks})"] * rows)
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table} ({cols}) VALUES {values} ON CONFLICT({key}) DO UPDATE SET {sets} "
        f"WHERE excluded.row_seq >= {table}.row_seq"
    )


Raw = bytes | msgspec.Raw  # one entity's wire JSON, as received

NULL = float("nan")
"""Bound for SQL NULL: SQLite stores a NaN as NULL, and a ``float`` skips the sqlite3 module's
adaptation lookup that ``None`` goes through (see the module docstring)."""
_blob = bytearray  # a row's bytes as bound (a copy, cheaper than adapting the original)


def _opt(value: Any) -> Any:
    """``value``, or :data:`NULL` for ``None``."""
    return NULL if value is None else value


class _Attrs(msgspec.Struct):
    msisdn: Any = ""
    id_number: Any = ""
    name: Any = ""
    region_code: Any = ""
    segment_id: Any = ""
    account_manager_id: Any = None
    value_class: Any = ""
    vip_level: Any = ""
    number_status: Any = ""


class _Value(msgspec.Struct):
    value_tier: Any = 3
    arpu_3m: Any = 0.0


class _Churn(msgspec.Struct):
    risk_score: Any = 0.0
    risk_level: Any = "low"


class _CustomerKeys(msgspec.Struct):
    attributes: _Attrs = msgspec.field(default_factory=_Attrs)
    value: _Value = msgspec.field(default_factory=_Value)
    churn: _Churn = msgspec.field(default_factory=_Churn)


class _HoldingKeys(msgspec.Struct):
    customer_id: Any = ""


class _CampaignKeys(msgspec.Struct):
    status: Any = "active"


class _OfferKeys(msgspec.Struct):
    campaign_id: Any = ""


class _TargetKeys(msgspec.Struct):
    campaign_id: Any = None
    customer_id: Any = None
    in_control_group: Any = False
    wave: Any = 1
    assigned_channel: Any = None
    score: Any = 0.0


class _OrderKeys(msgspec.Struct):
    customer_id: Any = ""
    campaign_id: Any = ""
    status: Any = "open"


class _ContactKeys(msgspec.Struct):
    customer_id: Any = ""
    channel: Any = ""
    staff_id: Any = ""
    campaign_id: Any = None
    started_at: Any = None
    result_code: Any = ""
    reactions: Any = None
    server_seq: Any = None
    result: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))


class _ClaimKeys(msgspec.Struct):
    claim_id: Any = ""
    holder_id: Any = ""
    channel: Any = ""
    fence: Any = 0
    lease_until: Any = None


class _RedirectKeys(msgspec.Struct):
    new_id: Any = ""


_customer_keys = msgspec.json.Decoder(_CustomerKeys).decode
_holding_keys = msgspec.json.Decoder(_HoldingKeys).decode
_campaign_keys = msgspec.json.Decoder(_CampaignKeys).decode
_offer_keys = msgspec.json.Decoder(_OfferKeys).decode
_target_keys = msgspec.json.Decoder(_TargetKeys).decode
_order_keys = msgspec.json.Decoder(_OrderKeys).decode
_contact_keys = msgspec.json.Decoder(_ContactKeys).decode
_claim_keys = msgspec.json.Decoder(_ClaimKeys).decode
_redirect_keys = msgspec.json.Decoder(_RedirectKeys).decode


def _customer(key: str, seq: int, raw: Raw, synced_at: str) -> Params:
    k = _customer_keys(raw)
    a, value, churn = k.attributes, k.value, k.churn
    name = a.name
    chars, pinyin, head = name_keys(name)
    id_number = str(a.id_number).upper()  # a trailing check letter is searched as X
    return (
        key, a.msisdn, id_number, id_number[::-1], name, chars, pinyin, head, a.region_code,
        a.segment_id, _opt(a.account_manager_id), a.value_class, a.vip_level, value.value_tier,
        value.arpu_3m, churn.risk_score, churn.risk_level, a.number_status, _blob(raw), seq,
        synced_at,
    )  # fmt: skip


def _holding(key: str, seq: int, raw: Raw, _at: str) -> Params:
    return (key, _holding_keys(raw).customer_id, _blob(raw), seq)


def _usage_months(key: str, seq: int, raw: Raw, _at: str) -> Params:
    return (key, _blob(raw), seq)  # id = the customer id; the row is stored as sent


def _campaign(key: str, seq: int, raw: Raw, _at: str) -> Params:
    return (key, _campaign_keys(raw).status, _blob(raw), seq)


def _offer(key: str, seq: int, raw: Raw, _at: str) -> Params:
    return (key, _offer_keys(raw).campaign_id, _blob(raw), seq)


def _target(key: str, seq: int, raw: Raw, _at: str) -> Params:
    k = _target_keys(raw)
    campaign_id, _, customer_id = key.partition(":")
    return (
        key, campaign_id if k.campaign_id is None else k.campaign_id,
        customer_id if k.customer_id is None else k.customer_id, 1 if k.in_control_group else 0,
        k.wave, _opt(k.assigned_channel), k.score, _blob(raw), seq,
    )  # fmt: skip


def _order(key: str, seq: int, raw: Raw, _at: str) -> Params:
    k = _order_keys(raw)
    return (key, k.customer_id, k.campaign_id, k.status, _blob(raw), seq)


_WE_START: dict[str, bool] = {c.value: not c.customer_initiated for c in Channel}
_REACHED: dict[str, bool] = {r.value: r.reached for r in ResultCode}


def _contact(key: str, seq: int, raw: Raw, _at: str) -> Params:
    k = _contact_keys(raw)
    campaign_id, channel, code = k.campaign_id, k.channel, k.result_code
    started_by_us, reached = _WE_START.get(channel), _REACHED.get(code)
    if started_by_us is None or reached is None:  # a value this build does not know
        started_by_us, reached = False, False
    result = k.result
    stored_result = NULL if len(result) == 4 and bytes(result) == b"null" else _blob(result)
    return (
        key, k.customer_id, channel, k.staff_id, _opt(campaign_id), ts_text(k.started_at) or "",
        code, 1 if campaign_id or k.reactions or started_by_us else 0, 1 if reached else 0,
        _blob(raw), stored_result, k.server_seq or seq, seq, "server",
    )  # fmt: skip


def _claim(key: str, seq: int, raw: Raw, _at: str) -> Params:
    k = _claim_keys(raw)
    return (
        key, k.claim_id, k.holder_id, k.channel, k.fence, ts_text(k.lease_until) or "",
        _blob(raw), seq,
    )  # fmt: skip


def _rule_set(key: str, seq: int, raw: Raw, _at: str) -> Params:
    return (int(key), _blob(raw), seq)


def _redirect(key: str, seq: int, raw: Raw, _at: str) -> Params:
    return (key, _redirect_keys(raw).new_id, seq)


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

_TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {  # entity: table, key, columns
    "customer": ("customer", "customer_id", _CUSTOMER_COLS),
    "holding": ("holding", "holding_id", ("holding_id", "customer_id", "row", "row_seq")),
    "usage_months": ("customer_usage", "customer_id", ("customer_id", "row", "row_seq")),
    "campaign": ("campaign", "campaign_id", ("campaign_id", "status", "row", "row_seq")),
    "offer": ("offer", "offer_id", ("offer_id", "campaign_id", "row", "row_seq")),
    "target": ("target_member", "target_id", _TARGET_COLS),
    "order": (
        "marketing_order",
        "order_id",
        ("order_id", "customer_id", "campaign_id", "status", "row", "row_seq"),
    ),
    "contact": ("contact", "contact_id", _CONTACT_COLS),
    "claim": ("claim_active", "customer_id", _CLAIM_COLS),
    "rule_set": ("rule_set", "version", ("version", "row", "row_seq")),
    "redirect": ("redirect", "old_id", ("old_id", "new_id", "row_seq")),
}

UPSERTS: dict[str, str] = {entity: _upsert(*spec) for entity, spec in _TABLES.items()}


@functools.cache
def upsert_rows(entity: str, rows: int) -> str:
    """The upsert of ``entity`` with ``rows`` rows in one statement (their parameters one after
    the other). SQLite inserts them in order, each with the same conflict rule as
    :data:`UPSERTS`, so it stores what as many single-row upserts would; the ``sqlite3`` module
    then steps the statement once per ``rows`` rows instead of once per row."""
    return _upsert(*_TABLES[entity], rows=rows)


PARAMS: dict[str, Callable[[str, int, Raw, str], Params]] = {
    "customer": _customer,
    "holding": _holding,
    "usage_months": _usage_months,
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
    "usage_months": "DELETE FROM customer_usage WHERE customer_id = ? AND row_seq <= ?",
    "campaign": "DELETE FROM campaign WHERE campaign_id = ? AND row_seq <= ?",
    "offer": "DELETE FROM offer WHERE offer_id = ? AND row_seq <= ?",
    "target": "DELETE FROM target_member WHERE target_id = ? AND row_seq <= ?",
    "order": "DELETE FROM marketing_order WHERE order_id = ? AND row_seq <= ?",
    "contact": "DELETE FROM contact WHERE contact_id = ? AND row_seq <= ? AND origin = 'server'",
    "claim": "DELETE FROM claim_active WHERE customer_id = ? AND row_seq <= ?",
    "rule_set": "DELETE FROM rule_set WHERE version = CAST(? AS INTEGER) AND row_seq <= ?",
    "redirect": "DELETE FROM redirect WHERE old_id = ? AND row_seq <= ?",
}
