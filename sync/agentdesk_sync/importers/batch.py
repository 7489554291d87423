"""Import one batch of records in one transaction: compare with the store, write, publish.

A record equal to the stored row is ``unchanged`` and writes nothing; a new or different one is
inserted or updated and appends a change so clients pull it.

A target or contact naming a merged-away customer (``agentdesk-sync merge``) goes to the kept
customer: its ``customer_id`` follows the redirect chain (a target entry also takes the kept
customer's name, as the merge's moved entries do); a contact keeps the id it has (or would be
given from the file's own values), so a contact the merge moved is found again unchanged. The
batch reads the redirects under a write lock, so a merge cannot slip in between its read and its
write: on PostgreSQL the sequencer lock, taken first; on SQLite the write lock itself, which the
caller's transaction takes at its start (``BEGIN IMMEDIATE``, see ``run_import``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from agentdesk_sync.db.changes import ChangeRow, append_changes, lock_sequencer
from agentdesk_sync.db.models import Base
from agentdesk_sync.db.redirects import kept_ids
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
    redirected: int = 0
    """Records naming a merged-away customer, applied to the kept one (also counted above)."""

    def add(self, other: BatchResult) -> None:
        """Add ``other``'s counts and rejects to these."""
        self.imported += other.imported
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejects += other.rejects
        self.redirected += other.redirected


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


def _customer_names(session: Session, ids: set[str]) -> dict[str, str]:
    customer = _table("customer")
    stmt = select(customer.c.customer_id, customer.c.name).where(customer.c.customer_id.in_(ids))
    return dict(session.execute(stmt).all())


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


def _prepare_contacts(
    values_of: list[Row], mapping: Mapping, redirects: dict[str, str], named: list[str]
) -> list[Prepared | FieldError]:
    """Every contact record prepared (or why not), a merged-away customer's moved to the kept
    one. First, because a contact without an id gets one from its values: only then is its key
    known, to look the stored one up."""
    prepared: list[Prepared | FieldError] = []
    for values, name in zip(values_of, named, strict=True):
        try:
            contact = prepare("contacts", values, mapping, None)
        except FieldError as exc:
            prepared.append(exc)
            continue
        kept = redirects.get(name)
        if kept is not None:  # its id stays the one the file's own values give
            contact.row["customer_id"] = kept
            contact.columns["customer_id"] = kept
            contact.customer_id = kept
        prepared.append(contact)
    return prepared


def _stored_contact(prepared: Prepared | FieldError, existing: dict[str, Row]) -> Prepared:
    """A prepared contact, checked against the stored contact of its id.

    Raises:
        FieldError: The record is invalid, or another contact with this id is stored.
    """
    if isinstance(prepared, FieldError):
        raise prepared
    before = existing.get(prepared.key)
    if before is not None and before != prepared.row:
        raise FieldError("contact_id", "a different contact with this id is already recorded")
    return prepared


def import_batch(
    session: Session, kind: str, records: list[Record], mapping: Mapping
) -> BatchResult:
    """Import ``records`` of ``kind`` in ``session`` (the caller commits or rolls back)."""
    # the sequencer first (PostgreSQL), before any row this batch writes: the order write
    # groups use, so an import and a group queue instead of deadlocking
    lock_sequencer(session.connection())
    spec = KINDS[kind]
    table = _table(spec.table)
    source = mapping.source_of("customer_id")
    named = [str(r.values.get(source, "")).strip() for r in records]
    ids = set(named)
    refers = kind in ("targets", "contacts")
    redirects = kept_ids(session, ids) if refers else {}
    names = _customer_names(session, set(redirects.values())) if kind == "targets" else {}
    # a target's key holds its customer: it is looked up (and overlaid) under the kept id
    values_of = [
        {**r.values, source: redirects[n]} if kind == "targets" and n in redirects else r.values
        for r, n in zip(records, named, strict=True)
    ]
    contacts = _prepare_contacts(values_of, mapping, redirects, named) if kind == "contacts" else []
    if kind == "contacts":
        keys = {p.key for p in contacts if isinstance(p, Prepared)}
    else:
        keys = {key_of(kind, v, mapping) for v in values_of}
    existing = _existing(session, table, keys)
    ids = (ids - redirects.keys()) | set(redirects.values())
    regions = _customer_regions(session, ids) if refers else {}
    campaigns = set(session.scalars(select(_table("campaign").c.campaign_id)))
    stored = set(existing)
    result = BatchResult()
    new: dict[str, Prepared] = {}
    changed: dict[str, Prepared] = {}
    changes: list[ChangeRow] = []
    for i, (record, values, name) in enumerate(zip(records, values_of, named, strict=True)):
        kept = redirects.get(name)
        try:
            if contacts:
                prepared = _stored_contact(contacts[i], existing)
            else:
                before = existing.get(key_of(kind, values, mapping))
                prepared = prepare(kind, values, mapping, before)
            if kind == "targets" and kept is not None and kept in names:
                prepared.row["customer_name"] = names[kept]
            if refers:
                _check_refs(prepared, regions, campaigns)
        except FieldError as exc:
            result.rejects.append(_reject(record, mapping, exc))
            continue
        result.redirected += kept is not None
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
