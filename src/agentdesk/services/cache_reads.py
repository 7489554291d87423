"""Read queries the services need on the store's cache tables, returning domain objects.

Every synced row keeps its wire form (``row``, JSON) next to a few indexed columns; these
functions select by the indexed columns and decode ``row`` with :func:`agentdesk.protocol.from_row`.
They take a reader connection (``CacheDB.reader()``) and never write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from agentdesk.domain import (
    Campaign,
    Claim,
    Contact,
    CustomerAttributes,
    CustomerView,
    MarketingOrder,
    Offer,
    TargetListEntry,
)
from agentdesk.policy import RuleSet, default_rules
from agentdesk.protocol import from_row

__all__ = [
    "active_claim",
    "campaigns",
    "contacts",
    "customer_attributes",
    "customer_view",
    "offers_for",
    "orders",
    "rules",
    "synced_at",
    "targets",
]

T = TypeVar("T")


def _decode(rows: Sequence[tuple[Any, ...]], cls: type[T]) -> list[T]:
    return [from_row(_load(r[0]), cls) for r in rows]


def _load(text: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def customer_view(conn: sqlite3.Connection, customer_id: str) -> CustomerView | None:
    """The unified view with holdings and usage, or None when not in the cache."""
    row = conn.execute("SELECT row FROM customer WHERE customer_id = ?", (customer_id,)).fetchone()
    if row is None:
        return None
    data = _load(row[0])
    data["holdings"] = [
        _load(r[0])
        for r in conn.execute(
            "SELECT row FROM holding WHERE customer_id = ? ORDER BY holding_id", (customer_id,)
        )
    ]
    data["usage"] = [
        _load(r[0])
        for r in conn.execute(
            "SELECT row FROM usage_month WHERE customer_id = ? ORDER BY month DESC LIMIT 12",
            (customer_id,),
        )
    ]
    return from_row(data, CustomerView)


def customer_attributes(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, CustomerAttributes]:
    """Attributes of several customers (for call lists), keyed by id."""
    found: dict[str, CustomerAttributes] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ",".join("?" for _ in chunk)
        for cid, text in conn.execute(
            f"SELECT customer_id, row FROM customer WHERE customer_id IN ({marks})", chunk
        ):
            found[cid] = from_row(_load(text)["attributes"], CustomerAttributes)
    return found


def synced_at(conn: sqlite3.Connection, customer_id: str) -> str | None:
    """When the customer's row was last written by sync (fixed-width UTC text)."""
    row = conn.execute(
        "SELECT synced_at FROM customer WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    return row[0] if row and row[0] else None


def contacts(conn: sqlite3.Connection, customer_id: str, limit: int = 50) -> list[Contact]:
    """Contacts from every channel (pulled and this device's), newest first."""
    rows = conn.execute(
        "SELECT row FROM contact WHERE customer_id = ? ORDER BY started_at DESC LIMIT ?",
        (customer_id, limit),
    ).fetchall()
    return _decode(rows, Contact)


def orders(conn: sqlite3.Connection, customer_id: str) -> list[MarketingOrder]:
    """Marketing orders in flight for the customer."""
    rows = conn.execute(
        "SELECT row FROM marketing_order WHERE customer_id = ? "
        "AND status IN ('open', 'in_progress')",
        (customer_id,),
    ).fetchall()
    return _decode(rows, MarketingOrder)


def targets(conn: sqlite3.Connection, customer_id: str) -> list[TargetListEntry]:
    """The customer's target-list entries."""
    rows = conn.execute(
        "SELECT row FROM target_member WHERE customer_id = ?", (customer_id,)
    ).fetchall()
    return _decode(rows, TargetListEntry)


def campaigns(conn: sqlite3.Connection, ids: Sequence[str] | None = None) -> list[Campaign]:
    """Campaigns (all, or those with ``ids``)."""
    if ids is None:
        rows = conn.execute("SELECT row FROM campaign ORDER BY campaign_id").fetchall()
    else:
        marks = ",".join("?" for _ in ids) or "''"
        rows = conn.execute(
            f"SELECT row FROM campaign WHERE campaign_id IN ({marks})", list(ids)
        ).fetchall()
    return _decode(rows, Campaign)


def offers_for(conn: sqlite3.Connection, campaign_ids: Sequence[str] | None = None) -> list[Offer]:
    """Offers of the given campaigns (all when None)."""
    if campaign_ids is None:
        rows = conn.execute("SELECT row FROM offer ORDER BY offer_id").fetchall()
    else:
        marks = ",".join("?" for _ in campaign_ids) or "''"
        rows = conn.execute(
            f"SELECT row FROM offer WHERE campaign_id IN ({marks}) ORDER BY offer_id",
            list(campaign_ids),
        ).fetchall()
    return _decode(rows, Offer)


def active_claim(conn: sqlite3.Connection, customer_id: str, now: datetime) -> Claim | None:
    """The last pulled claim on the customer, when it is still valid at ``now``."""
    row = conn.execute(
        "SELECT row FROM claim_active WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        return None
    claim = from_row(_load(row[0]), Claim)
    return claim if claim.valid_at(now) else None


def rules(conn: sqlite3.Connection) -> RuleSet:
    """The newest pulled rule set, or the bundled defaults before the first sync."""
    row = conn.execute("SELECT row FROM rule_set ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return default_rules()
    try:
        return RuleSet.from_dict(_load(row[0]))
    except (KeyError, ValueError, TypeError):
        return default_rules()
