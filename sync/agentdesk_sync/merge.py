"""Customer merge (seed 002): find customers that are the same person, and merge two into one.

Candidates follow the seed's rules: the same ID type and number, or the same name at the same
address. :func:`merge_customers` moves everything of OTHER (holdings, usage months, contacts,
target memberships, orders, portfolio entries, intents) to KEEP, fills KEEP's empty attributes
from OTHER, deletes OTHER, leaves a ``customer_redirect`` OTHER → KEEP and publishes every change,
all in one transaction. OTHER may be a stale row of an id that already redirects (written back by
an import before imports honoured redirects): merging it again moves what it gathered and
replaces the redirect. KEEP may not be such a stale row: keeping a merged-away id would turn its
redirect into a loop, so the merge refuses and names the customer to merge into instead (and
:func:`find_candidates` proposes that merge, which folds the stale row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from agentdesk.protocol import usage_row
from agentdesk_sync.db.changes import ChangeRow, append_changes, lock_sequencer
from agentdesk_sync.db.engine import make_engine
from agentdesk_sync.db.errors import DataInputError
from agentdesk_sync.db.models import (
    Claim,
    Contact,
    Customer,
    CustomerRedirect,
    Holding,
    Intent,
    MarketingOrder,
    Portfolio,
    TargetMember,
    UsageMonth,
)
from agentdesk_sync.db.redirects import kept_ids

__all__ = ["Candidate", "MergeReport", "find_candidates", "merge_customers"]

_SAME_ID = """
SELECT a.customer_id, b.customer_id, a.name, b.name FROM customer a
JOIN customer b ON a.id_type = b.id_type AND a.id_number = b.id_number
 AND a.customer_id < b.customer_id
WHERE a.id_number <> '' ORDER BY a.customer_id, b.customer_id LIMIT :limit
"""
_SAME_NAME_ADDRESS = """
SELECT a.customer_id, b.customer_id, a.name, b.name FROM customer a
JOIN customer b ON a.name = b.name AND a.contact_address = b.contact_address
 AND a.customer_id < b.customer_id
WHERE a.contact_address <> '' ORDER BY a.customer_id, b.customer_id LIMIT :limit
"""
_EMPTY: tuple[Any, ...] = (None, "", [], {})


@dataclass(frozen=True, slots=True)
class Candidate:
    """Two customers that look like the same person; ``keep`` is the older id (or, for a
    stale row of a merged-away id, the customer that id redirects to)."""

    keep: str
    other: str
    reasons: tuple[str, ...]
    names: tuple[str, str]

    def line(self) -> str:
        """One tab-separated line: keep, other, reasons, names."""
        return f"{self.keep}\t{self.other}\t{','.join(self.reasons)}\t{'/'.join(self.names)}"


@dataclass
class MergeReport:
    """What a merge moved."""

    keep: str
    other: str
    moved: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        moved = " ".join(f"{k}={v}" for k, v in self.moved.items())
        return f"Merged {self.other} into {self.keep}: moved {moved}; {self.other} now redirects."


def find_candidates(url: str, limit: int = 200) -> list[Candidate]:
    """Candidate pairs by the seed-002 rules, same-ID pairs first.

    A KEEP that was itself merged away (a stale row of it is stored) is never proposed: the
    pair becomes the customer it redirects to and the stale id, whose merge folds the stale row.
    """
    engine = make_engine(url)
    found: list[tuple[str, str, str, str, str]] = []
    try:
        with Session(engine) as session:
            for reason, sql in (("same_id", _SAME_ID), ("same_name_address", _SAME_NAME_ADDRESS)):
                rows = session.execute(text(sql), {"limit": limit})
                found += [(reason, keep, other, a, b) for keep, other, a, b in rows]
            kept = kept_ids(session, {keep for _r, keep, _o, _a, _b in found})
            names: dict[str, str] = {}
            if kept:
                stmt = select(Customer.customer_id, Customer.name).where(
                    Customer.customer_id.in_(sorted(set(kept.values())))
                )
                names = dict(session.execute(stmt).all())
    finally:
        engine.dispose()
    pairs: dict[tuple[str, str], Candidate] = {}
    for reason, keep, other, name_a, name_b in found:
        if keep in kept:  # fold the stale row into the customer it was merged into
            other, name_b = keep, name_a
            keep = kept[other]
            name_a = names.get(keep, "")
        known = pairs.get((keep, other))
        reasons = (reason,) if known is None else tuple(dict.fromkeys((*known.reasons, reason)))
        pairs[(keep, other)] = Candidate(keep, other, reasons, (name_a, name_b))
    return list(pairs.values())[:limit]


class _Merge:
    """The steps of one merge inside one session."""

    def __init__(self, session: Session, keep: Customer, other: Customer) -> None:
        self.session = session
        self.keep = keep
        self.other = other
        self.report = MergeReport(keep.customer_id, other.customer_id)
        self.changes: list[ChangeRow] = []

    def put(self, entity: str, entity_id: str, row: dict[str, Any]) -> None:
        kid = self.keep.customer_id
        self.changes.append(ChangeRow(entity, entity_id, "put", row, self.keep.region_code, kid))

    def remove(self, entity: str, entity_id: str) -> None:
        oid = self.other.customer_id
        self.changes.append(
            ChangeRow(entity, entity_id, "remove", None, self.other.region_code, oid)
        )

    def count(self, what: str, moved: bool = True) -> None:
        target = self.report.moved if moved else self.report.dropped
        target[what] = target.get(what, 0) + 1

    def move_simple(self, model: Any, entity: str, key: str) -> None:
        """Rows keyed by their own id: re-point ``customer_id`` (column and row)."""
        rows = self.session.scalars(
            select(model).where(model.customer_id == self.other.customer_id)
        )
        for obj in rows:
            obj.customer_id = self.keep.customer_id
            obj.row = {**obj.row, "customer_id": self.keep.customer_id}
            self.put(entity, getattr(obj, key), obj.row)
            self.count(entity)

    def move_usage(self) -> None:
        """OTHER's months move to KEEP, but a month KEEP has keeps KEEP's row. On the wire a
        customer's months are one change: OTHER's go, KEEP's whole set is put again."""
        kid, oid = self.keep.customer_id, self.other.customer_id
        moving = list(self.session.scalars(select(UsageMonth).where(UsageMonth.customer_id == oid)))
        if not moving:
            return
        kept = {
            obj.month: obj.row
            for obj in self.session.scalars(select(UsageMonth).where(UsageMonth.customer_id == kid))
        }
        for obj in moving:
            self.session.delete(obj)
            if obj.month in kept:
                self.count("usage", moved=False)
                continue
            row = {**obj.row, "customer_id": kid}
            self.session.add(UsageMonth(customer_id=kid, month=obj.month, row=row))
            kept[obj.month] = row
            self.count("usage")
        self.remove("usage_months", oid)
        self.put("usage_months", kid, usage_row(kid, [kept[month] for month in sorted(kept)]))

    def move_targets(self) -> None:
        kid, oid = self.keep.customer_id, self.other.customer_id
        have = set(
            self.session.scalars(
                select(TargetMember.campaign_id).where(TargetMember.customer_id == kid)
            )
        )
        for obj in self.session.scalars(
            select(TargetMember).where(TargetMember.customer_id == oid)
        ):
            self.remove("target", f"{obj.campaign_id}:{oid}")
            if obj.campaign_id not in have:
                row = {**obj.row, "customer_id": kid, "customer_name": self.keep.name}
                self.session.add(TargetMember(
                    campaign_id=obj.campaign_id, customer_id=kid, row=row,
                    in_control_group=obj.in_control_group, wave=obj.wave,
                ))  # fmt: skip
                self.put("target", f"{obj.campaign_id}:{kid}", row)
                self.count("target")
            else:
                self.count("target", moved=False)
            self.session.delete(obj)

    def move_side_tables(self) -> None:
        kid, oid = self.keep.customer_id, self.other.customer_id
        held = set(
            self.session.scalars(select(Portfolio.user_id).where(Portfolio.customer_id == kid))
        )
        for obj in self.session.scalars(select(Portfolio).where(Portfolio.customer_id == oid)):
            if obj.user_id not in held:
                self.session.add(Portfolio(user_id=obj.user_id, customer_id=kid))
            self.session.delete(obj)
        self.session.execute(
            update(Intent).where(Intent.customer_id == oid).values(customer_id=kid)
        )
        if self.session.execute(delete(Claim).where(Claim.customer_id == oid)).rowcount:  # type: ignore[attr-defined]
            self.remove("claim", oid)

    def fill_and_finish(self) -> None:
        kid, oid = self.keep.customer_id, self.other.customer_id
        row = dict(self.keep.row)
        attrs = dict(row["attributes"])
        for name, value in self.other.row["attributes"].items():
            if attrs.get(name) in _EMPTY and value not in _EMPTY:
                attrs[name] = value
                self.report.filled.append(name)
        previous = list(attrs.get("previous_numbers") or [])
        if self.other.msisdn not in (self.keep.msisdn, *previous):
            attrs["previous_numbers"] = [*previous, self.other.msisdn]
        self.keep.row = {**row, "attributes": attrs}
        self.keep.id_number = attrs.get("id_number") or ""
        self.keep.updated_at = datetime.now(UTC)
        self.put("customer", kid, self.keep.row)
        now = datetime.now(UTC)
        # the redirects into OTHER now lead to KEEP; never one of KEEP itself (a loop)
        self.session.execute(
            update(CustomerRedirect)
            .where(CustomerRedirect.new_id == oid, CustomerRedirect.old_id != kid)
            .values(new_id=kid)
        )
        # OTHER may be a stale row of an id merged before (an import before redirects were
        # honoured wrote it back): merging it again replaces its old redirect
        self.session.execute(delete(CustomerRedirect).where(CustomerRedirect.old_id == oid))
        self.session.add(CustomerRedirect(old_id=oid, new_id=kid, merged_at=now))
        self.session.delete(self.other)
        self.remove("customer", oid)
        self.changes.append(ChangeRow("redirect", oid, "put", {"new_id": kid}, None, kid))


def _load(session: Session, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise DataInputError(f"There is no customer {customer_id}.")
    return customer


def _refuse_merged_keep(session: Session, keep: str, other: str) -> None:
    """Refuse a KEEP that was itself merged away (a stale row of it is stored): keeping it
    would turn its redirect into a loop and send the customer it was merged into back to it.

    Raises:
        DataInputError: ``keep`` redirects.
    """
    kept = kept_ids(session, [keep]).get(keep)
    if kept is None:
        return
    fold = f"'merge {kept} {keep}' folds the stale row of {keep} into it"
    if kept == other:
        raise DataInputError(f"KEEP {keep} was merged into {other}: {fold}.")
    raise DataInputError(
        f"KEEP {keep} was merged into {kept}: merge into {kept} instead "
        f"('merge {kept} {other}'); {fold}."
    )


def merge_customers(url: str, keep: str, other: str) -> MergeReport:
    """Merge customer ``other`` into ``keep`` in one transaction (on SQLite it takes the write
    lock at its start, so no other writer commits between what it reads and what it writes).

    Raises:
        DataInputError: Unknown customer, both ids are the same, or ``keep`` was itself merged
            away (its stored row is stale: merge it into the customer it redirects to).
    """
    if keep == other:
        raise DataInputError("KEEP and OTHER are the same customer.")
    engine = make_engine(url)
    try:
        # SQLite: BEGIN IMMEDIATE (the service's write transactions do the same)
        sqlite = engine.dialect.name == "sqlite"
        bind = engine.execution_options(sqlite_begin="IMMEDIATE") if sqlite else engine
        with Session(bind) as session:
            # the sequencer first (PostgreSQL), as a write group does: locking customer and
            # claim rows first could deadlock with a group that holds it and wants those rows
            lock_sequencer(session.connection())
            _refuse_merged_keep(session, keep, other)
            merge = _Merge(session, _load(session, keep), _load(session, other))
            merge.move_simple(Holding, "holding", "holding_id")
            merge.move_usage()
            merge.move_simple(Contact, "contact", "contact_id")
            merge.move_targets()
            merge.move_simple(MarketingOrder, "order", "order_id")
            merge.move_side_tables()
            merge.fill_and_finish()
            append_changes(session, merge.changes)
            session.commit()
    finally:
        engine.dispose()
    return merge.report
