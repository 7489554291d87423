"""Import one batch of records in one transaction: compare with the store, write, publish.

A record equal to the stored row is ``unchanged`` and writes nothing; a new or different one is
inserted or updated and appends a change so clients pull it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from agentdesk_sync.db.changes import ChangeRow, append_changes, lock_sequencer
from agentdesk_sync.db.models import Base
from agentdesk_sync.importers.fields import FieldError
from agentdesk_sync.importers.kinds import KINDS, Prepared, key_of, prepare
from agentdesk_sync.importers.mapping import Mapping
from agentdesk_sync.importers.reader import Record

__all__ = ["BatchResult", "Reject", "import_batch"]

Row = dict[str, Any]
_KEYS = {"customer": ("customer_id",), "campaign": ("campaign_id",), "contact": ("contact_id",),
         "target_member": ("campaign_id", "customer_id")}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reject:
    """One line of the reject report."""

    line: int
    column: str
    value: str
    reason: str


@dataclass
class BatchResult:
    """Counts and rejects of one batch."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _existing(session: Session, table: Table, keys: set[str]) -> dict[str, Row]:
    if table.name == "target_member":
        customers = {k.partition(":")[2] for k in keys}
        stmt = select(table.c.campaign_id, table.c.customer_id, table.c.row).where(
            table.c.customer_id.in_(customers)
        )
        rows = {f"{k}:{c}": r for k, c, r in session.execute(stmt)}
        return {k: v for k, v in rows.items() if k in keys}
    key = table.c[_KEYS[table.name][0]]
    return dict(session.execute(select(key, table.c.row).where(key.in_(keys))).all())


def _customer_regions(session: Session, ids: set[str]) -> dict[str, str]:
    customer = _table("customer")
    stmt = select(customer.c.customer_id, customer.c.region_code).where(
        customer.c.customer_id.in_(ids)
    )
    return dict(session.execute(stmt).all())


def _check_refs(prepared: Prepared, regions: dict[str, str], campaigns: set[str]) -> None:
    if prepared.customer_id is not None and prepared.customer_id not in regions:
        raise FieldError("customer_id", "no such customer")
    campaign = prepared.row.get("campaign_id")
    if campaign and campaign not in campaigns:
        raise FieldError("campaign_id", "no such campaign")


def _write(session: Session, table: Table, new: list[Prepared], changed: list[Prepared]) -> None:
    keys = _KEYS[table.name]
    now = datetime.now(UTC)
    extra: Row = {"updated_at": now} if table.name == "customer" else {}

    def params(p: Prepared) -> Row:
        values = dict(zip(keys, p.key.split(":", len(keys) - 1), strict=True))
        return {**values, **p.columns, "row": p.row, **extra}

    if new:
        session.execute(insert(table), [{**params(p), "row_seq": 0} for p in new])
    if changed:
        stmt = update(table).where(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
        cols = [c for c in params(changed[0]) if c not in keys]
        stmt = stmt.values({c: bindparam(c) for c in cols})
        rows = []
        for p in changed:
            values = params(p)
            rows.append({(f"k_{c}" if c in keys else c): v for c, v in values.items()})
        session.connection().execute(stmt, rows)


def _reject(record: Record, mapping: Mapping, exc: FieldError) -> Reject:
    column = exc.field
    value = record.values.get(column, record.values.get(mapping.source_of(column), ""))
    return Reject(record.line, column, "" if value is None else str(value), exc.reason)


def import_batch(
    session: Session, kind: str, records: list[Record], mapping: Mapping
) -> BatchResult:
    """Import ``records`` of ``kind`` in ``session`` (the caller commits or rolls back)."""
    # the sequencer first (PostgreSQL), before any row this batch writes: the order write
    # groups use, so an import and a group queue instead of deadlocking
    lock_sequencer(session.connection())
    spec = KINDS[kind]
    table = _table(spec.table)
    existing = _existing(session, table, {key_of(kind, r.values, mapping) for r in records})
    ids = {str(r.values.get(mapping.source_of("customer_id"), "")).strip() for r in records}
    regions = _customer_regions(session, ids) if kind in ("targets", "contacts") else {}
    campaigns = set(session.scalars(select(_table("campaign").c.campaign_id)))
    stored = set(existing)
    result = BatchResult()
    new: dict[str, Prepared] = {}
    changed: dict[str, Prepared] = {}
    changes: list[ChangeRow] = []
    for record in records:
        try:
            before = existing.get(key_of(kind, record.values, mapping))
            prepared = prepare(kind, record.values, mapping, before)
            if kind in ("targets", "contacts"):
                _check_refs(prepared, regions, campaigns)
        except FieldError as exc:
            result.rejects.append(_reject(record, mapping, exc))
            continue
        if existing.get(prepared.key) == prepared.row:
            result.unchanged += 1
            continue
        if prepared.key in new:  # the same new record again, later line wins
            new[prepared.key] = prepared
        elif prepared.key in stored:
            result.updated += prepared.key not in changed
            changed[prepared.key] = prepared
        else:
            new[prepared.key] = prepared
            result.imported += 1
        existing[prepared.key] = prepared.row
        region = (
            prepared.row["attributes"]["region_code"]
            if kind == "customers"
            else (regions.get(prepared.customer_id or ""))
        )
        changes.append(ChangeRow(spec.entity, prepared.key, "put", prepared.row, region,
                                 prepared.customer_id))  # fmt: skip
    _write(session, table, list(new.values()), list(changed.values()))
    append_changes(session, changes)
    return result
