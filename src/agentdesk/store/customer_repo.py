"""Reading one customer and the shared reference data, as frozen domain objects (P3).

Hot path: raw SQL on indexed columns, JSON ``row`` decoded with orjson and turned into the
domain dataclasses by :func:`agentdesk.protocol.from_row`. All functions take a reader
connection and never write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from agentdesk.domain import (
    Campaign,
    Claim,
    Contact,
    CustomerView,
    Holding,
    MarketingOrder,
    Offer,
    TargetListEntry,
    UsageMonth,
)
from agentdesk.protocol import from_row
from agentdesk.store.codec import loads, parse_ts, ts_text

__all__ = [
    "CustomerBundle",
    "LoadedRules",
    "load_customer_view",
    "load_history",
    "load_offers_and_campaigns",
    "load_rules",
    "newest_months",
    "resolve_customer_id",
    "unsent_contacts",
]

T = TypeVar("T")
RECENT_CONTACTS = 50
USAGE_MONTHS = 12
"""Usage months the customer view shows."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerBundle:
    """Everything the customer screen shows, read in one go.

    Attributes:
        view: the unified view with holdings and usage.
        contacts: the last contacts of every channel, newest first (local ones included).
        contact_results: ``contact_id`` → push result (conflict details) where known.
        unsynced_contact_ids: contacts recorded here and not yet confirmed by the server.
        orders: in-flight marketing orders.
        targets: the campaign target lists the customer is on.
        campaigns: those campaigns.
        active_claim: the last pulled claim on the customer (check ``valid_at``), if any.
        synced_at: when the customer row was last applied from the server.
        usage_as_of: the newest usage month (``YYYY-MM``), if any.
    """

    view: CustomerView
    contacts: tuple[Contact, ...] = ()
    contact_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    unsynced_contact_ids: frozenset[str] = frozenset()
    orders: tuple[MarketingOrder, ...] = ()
    targets: tuple[TargetListEntry, ...] = ()
    campaigns: tuple[Campaign, ...] = ()
    active_claim: Claim | None = None
    synced_at: datetime | None = None
    usage_as_of: str | None = None


@dataclass(frozen=True, slots=True)
class LoadedRules:
    """The newest pulled rule set: its version and parsed rules dict."""

    version: int
    rules: dict[str, Any]


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...], cls: type[T]) -> list[T]:
    return [from_row(loads(r[0]), cls) for r in conn.execute(sql, params)]


def resolve_customer_id(conn: sqlite3.Connection, customer_id: str) -> str:
    """Follow merge redirects (at most 5 hops) to the kept customer id."""
    for _ in range(5):
        row = conn.execute(
            "SELECT new_id FROM redirect WHERE old_id = ?", (customer_id,)
        ).fetchone()
        if row is None:
            break
        customer_id = row[0]
    return customer_id


def load_customer_view(conn: sqlite3.Connection, customer_id: str) -> CustomerBundle | None:
    """The customer screen's data, or ``None`` when the customer is not in the cache.

    Args:
        conn: a reader connection.
        customer_id: the id (a merged-away id is followed to the kept one).

    Returns:
        The bundle, with freshness (``synced_at``, ``usage_as_of``).
    """
    customer_id = resolve_customer_id(conn, customer_id)
    head = conn.execute(
        "SELECT row, synced_at FROM customer WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    if head is None:
        return None
    key = (customer_id,)
    holdings = _rows(
        conn, "SELECT row FROM holding WHERE customer_id = ? ORDER BY id", key, Holding
    )
    usage = _usage(conn, customer_id)
    base = loads(head[0])
    base["holdings"], base["usage"] = [], []
    view = from_row(base, CustomerView)
    view = _with(view, holdings, usage)
    contacts, results, unsynced = _recent_contacts(conn, customer_id)
    targets = _rows(
        conn, "SELECT row FROM target_member WHERE customer_id = ?", key, TargetListEntry
    )
    return CustomerBundle(
        view=view,
        contacts=tuple(contacts),
        contact_results=results,
        unsynced_contact_ids=frozenset(unsynced),
        orders=tuple(_open_orders(conn, customer_id)),
        targets=tuple(targets),
        campaigns=tuple(_campaigns(conn, [t.campaign_id for t in targets])),
        active_claim=_claim(conn, customer_id),
        synced_at=parse_ts(head[1]) if head[1] else None,
        usage_as_of=usage[0].month if usage else None,
    )


def _usage(conn: sqlite3.Connection, customer_id: str) -> list[UsageMonth]:
    """The customer's last :data:`USAGE_MONTHS` usage months, newest first."""
    row = conn.execute(
        "SELECT row FROM customer_usage WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    return [] if row is None else newest_months(loads(row[0]).get("months") or ())


def newest_months(months: Iterable[dict[str, Any]]) -> list[UsageMonth]:
    """The newest :data:`USAGE_MONTHS` of a customer's usage month rows (any order), newest
    first: what the customer view shows, from the cache or from the service's view."""
    newest = sorted(months, key=lambda u: str(u.get("month", "")), reverse=True)
    return [from_row(u, UsageMonth) for u in newest[:USAGE_MONTHS]]


def _with(view: CustomerView, holdings: list[Holding], usage: list[UsageMonth]) -> CustomerView:
    import dataclasses

    return dataclasses.replace(view, holdings=tuple(holdings), usage=tuple(usage))


def _recent_contacts(
    conn: sqlite3.Connection, customer_id: str, limit: int = RECENT_CONTACTS
) -> tuple[list[Contact], dict[str, dict[str, Any]], list[str]]:
    contacts: list[Contact] = []
    results: dict[str, dict[str, Any]] = {}
    unsynced: list[str] = []
    for row, result, origin, contact_id in conn.execute(
        "SELECT row, result, origin, contact_id FROM contact WHERE customer_id = ? "
        "ORDER BY started_at DESC LIMIT ?",
        (customer_id, limit),
    ):
        contacts.append(from_row(loads(row), Contact))
        if result is not None:
            results[contact_id] = loads(result)
        if origin == "local":
            unsynced.append(contact_id)
    return contacts, results, unsynced


def unsent_contacts(
    conn: sqlite3.Connection, customer_id: str
) -> tuple[list[Contact], dict[str, dict[str, Any]]]:
    """The customer's contacts recorded on this device that the service does not hold yet
    (waiting, in flight or rejected), newest first, with the push results known for them.

    Read through the outbox (this device's items only) and the contact id key, never the
    customer index, so it stays fast while a first sync has the indexes dropped.
    """
    contacts: list[Contact] = []
    results: dict[str, dict[str, Any]] = {}
    for row, result, contact_id in conn.execute(
        "SELECT c.row, c.result, c.contact_id FROM outbox o "
        "JOIN contact c ON c.contact_id = o.id WHERE o.kind = 'contact' "
        "AND o.state IN ('pending', 'inflight', 'rejected') AND c.customer_id = ? "
        "ORDER BY c.started_at DESC",
        (customer_id,),
    ):
        contacts.append(from_row(loads(row), Contact))
        if result is not None:
            results[contact_id] = loads(result)
    return contacts, results


def _open_orders(conn: sqlite3.Connection, customer_id: str) -> list[MarketingOrder]:
    return _rows(
        conn,
        "SELECT row FROM marketing_order WHERE customer_id = ? "
        "AND status IN ('open', 'in_progress') ORDER BY id",
        (customer_id,),
        MarketingOrder,
    )


def _campaigns(conn: sqlite3.Connection, ids: list[str]) -> list[Campaign]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    sql = f"SELECT row FROM campaign WHERE campaign_id IN ({marks}) ORDER BY campaign_id"
    return _rows(conn, sql, tuple(ids), Campaign)


def _claim(conn: sqlite3.Connection, customer_id: str) -> Claim | None:
    row = conn.execute(
        "SELECT row FROM claim_active WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        return None
    data = loads(row[0])
    data.setdefault("customer_id", customer_id)
    return from_row(data, Claim)


def load_offers_and_campaigns(
    conn: sqlite3.Connection,
) -> tuple[list[Offer], list[Campaign]]:
    """Every cached offer and campaign (a few hundred rows at most)."""
    offers = _rows(conn, "SELECT row FROM offer ORDER BY offer_id", (), Offer)
    campaigns = _rows(conn, "SELECT row FROM campaign ORDER BY campaign_id", (), Campaign)
    return offers, campaigns


def load_history(
    conn: sqlite3.Connection, customer_id: str, since: datetime | None = None
) -> list[Contact]:
    """The customer's contacts (every channel) started at or after ``since``, oldest first."""
    start = ts_text(since) or ""
    return _rows(
        conn,
        "SELECT row FROM contact WHERE customer_id = ? AND started_at >= ? ORDER BY started_at",
        (resolve_customer_id(conn, customer_id), start),
        Contact,
    )


def load_rules(conn: sqlite3.Connection) -> LoadedRules | None:
    """The newest pulled rule set, or ``None`` before the first pull."""
    row = conn.execute("SELECT version, row FROM rule_set ORDER BY version DESC LIMIT 1").fetchone()
    return None if row is None else LoadedRules(int(row[0]), loads(row[1]))
