"""What each import kind builds from a source record: the wire row, key and table columns.

Customers overlay the given fields on the stored customer (a column the file lacks keeps its
stored value); source columns that map to none of our fields are kept in ``attributes.extra``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from agentdesk.domain import (
    Campaign,
    ChurnInfo,
    Contact,
    CustomerAttributes,
    CustomerView,
    TargetListEntry,
    ValueInfo,
)
from agentdesk.protocol import to_row
from agentdesk_sync.importers.fields import FieldError, FieldSpec, coerce, field_specs, validate
from agentdesk_sync.importers.mapping import Mapping

__all__ = ["KINDS", "KindSpec", "Prepared", "key_of", "prepare"]

Row = dict[str, Any]
_CONTACT_NS = uuid.UUID("6f1c2d7e-5a4b-4c3d-9e8f-a0b1c2d3e4f5")


@dataclass(frozen=True, slots=True)
class KindSpec:
    """An import kind: its change entity, table and the fields that make the key."""

    entity: str
    table: str
    cls: type
    key_fields: tuple[str, ...]


@dataclass(slots=True)  # not frozen: a frozen one is built ~twice as slowly
class Prepared:
    """A validated record, ready to compare and write."""

    key: str
    row: Row
    customer_id: str | None
    columns: Row


KINDS = {
    "customers": KindSpec("customer", "customer", CustomerAttributes, ("customer_id",)),
    "campaigns": KindSpec("campaign", "campaign", Campaign, ("campaign_id",)),
    "targets": KindSpec("target", "target_member", TargetListEntry, ("campaign_id", "customer_id")),
    "contacts": KindSpec("contact", "contact", Contact, ("contact_id",)),
}


def _norm(row: Row) -> Row:
    normalised: Row = orjson.loads(orjson.dumps(row))
    return normalised


def _plan(cls: type, mapping: Mapping, prefix: str) -> list[tuple[str, str, str, FieldSpec]]:
    key = (cls, prefix)
    if key not in mapping.plans:
        mapping.plans[key] = [
            (name, prefix + name, mapping.source_of(prefix + name), spec)
            for name, spec in field_specs(cls).items()
        ]
    plan: list[tuple[str, str, str, FieldSpec]] = mapping.plans[key]
    return plan


def _used_columns(mapping: Mapping) -> set[str]:
    if "used" not in mapping.plans:
        used = {mapping.source_of(f) for f in field_specs(CustomerAttributes)}
        mapping.plans["used"] = used | set(mapping.columns.values())
    columns: set[str] = mapping.plans["used"]
    return columns


def _typed(values: Row, cls: type, mapping: Mapping, prefix: str = "") -> Row:
    typed: Row = {}
    defaults = mapping.defaults
    for name, ours, source, spec in _plan(cls, mapping, prefix):
        if source in values:
            raw = values[source]
        elif ours in defaults:
            raw = mapping.default(ours, values)
        else:
            continue
        try:
            value = coerce(ours, raw, spec, mapping)
        except FieldError as exc:
            raise FieldError(source, exc.reason) from None
        if value is not None:
            typed[name] = value
    return typed


def key_of(kind: str, values: Row, mapping: Mapping) -> str:
    """The business key of a record (``campaign_id:customer_id`` for targets); may be empty."""
    parts = []
    for name in KINDS[kind].key_fields:
        source = mapping.source_of(name)
        raw = values[source] if source in values else mapping.default(name, values)
        parts.append(str(raw or "").strip())
    if kind == "contacts" and not parts[0]:
        return ""
    return ":".join(parts)


def _customer(values: Row, mapping: Mapping, existing: Row | None) -> Prepared:
    base = existing or {}
    attrs = {**base.get("attributes", {}), **_typed(values, CustomerAttributes, mapping)}
    used = _used_columns(mapping)
    extra = {
        k: str(v)
        for k, v in values.items()
        if k not in used and k != "line" and v not in (None, "")
    }
    attrs["extra"] = {**base.get("attributes", {}).get("extra", {}), **extra}
    view = CustomerView(
        attributes=validate(attrs, CustomerAttributes),
        value=validate({**base.get("value", {}), **_typed(values, ValueInfo, mapping, "value.")},
                       ValueInfo),
        churn=validate({**base.get("churn", {}), **_typed(values, ChurnInfo, mapping, "churn.")},
                       ChurnInfo),
        holding_stats=base.get("holding_stats", {}),
        behaviour_stats=base.get("behaviour_stats", {}),
        row_seq=base.get("row_seq", 0),
    )  # fmt: skip
    a = view.attributes
    columns = {"msisdn": a.msisdn, "name": a.name, "id_type": a.id_type.value,
               "id_number": a.id_number, "region_code": a.region_code,
               "segment_id": a.segment_id.value, "account_manager_id": a.account_manager_id,
               "contact_address": a.contact_address}  # fmt: skip
    return Prepared(a.customer_id, _norm(to_row(view)), a.customer_id, columns)


def _campaign(values: Row, mapping: Mapping, existing: Row | None) -> Prepared:
    typed = {**(existing or {}), **_typed(values, Campaign, mapping)}
    typed.setdefault("strategy", "")
    typed.setdefault("target_group", "")
    if "created_at" not in typed and "valid_from" in typed:
        typed["created_at"] = typed["valid_from"]
    campaign = validate(typed, Campaign, optional=("strategy", "target_group"))
    return Prepared(campaign.campaign_id, _norm(to_row(campaign)), None, {})


def _target(values: Row, mapping: Mapping, existing: Row | None) -> Prepared:
    entry = validate({**(existing or {}), **_typed(values, TargetListEntry, mapping)},
                     TargetListEntry)  # fmt: skip
    columns = {"in_control_group": entry.in_control_group, "wave": entry.wave}
    key = f"{entry.campaign_id}:{entry.customer_id}"
    return Prepared(key, _norm(to_row(entry)), entry.customer_id, columns)


def _contact(values: Row, mapping: Mapping, existing: Row | None) -> Prepared:
    typed = _typed(values, Contact, mapping)
    typed.setdefault("staff_id", "import")
    if "ended_at" not in typed and "started_at" in typed:
        typed["ended_at"] = typed["started_at"]
    if "contact_id" not in typed:
        seed = "|".join(str(typed.get(k, "")) for k in ("customer_id", "channel", "started_at"))
        typed["contact_id"] = str(uuid.uuid5(_CONTACT_NS, seed))
    contact = validate(typed, Contact)
    columns = {
        "customer_id": contact.customer_id, "channel": contact.channel.value,
        "staff_id": contact.staff_id, "campaign_id": contact.campaign_id,
        "started_at": contact.started_at, "ended_at": contact.ended_at,
        "result_code": contact.result_code.value, "is_marketing": contact.is_marketing,
        "reached": contact.reached, "device_id": "import", "payload_hash": None, "result": None,
        "server_seq": 0, "received_at": datetime.now(UTC),
    }  # fmt: skip
    if existing is not None and _norm(to_row(contact)) != existing:
        raise FieldError("contact_id", "a different contact with this id is already recorded")
    return Prepared(contact.contact_id, _norm(to_row(contact)), contact.customer_id, columns)


_BUILDERS = {"customers": _customer, "campaigns": _campaign, "targets": _target,
             "contacts": _contact}  # fmt: skip


def prepare(kind: str, values: Row, mapping: Mapping, existing: Row | None) -> Prepared:
    """Validate one record of ``kind`` against the stored row (None when new).

    Raises:
        FieldError: The record cannot be imported (field and reason).
    """
    return _BUILDERS[kind](values, mapping, existing)
