"""The few batch reads the work queues need that :mod:`agentdesk.store`'s repositories lack.

Each takes a reader connection (``CacheDB.reader()``), selects by indexed columns and decodes
the stored wire ``row`` with :func:`agentdesk.protocol.from_row`. Everything else (the customer
bundle, offers, history, rules, call list, portfolio, supervisor aggregates) comes from the
store's repositories.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from agentdesk.domain import Contact, CustomerAttributes
from agentdesk.protocol import from_row
from agentdesk.store.codec import parse_ts, ts_text

__all__ = [
    "ConflictRow",
    "customer_attributes",
    "histories",
    "other_contact_times",
    "recent_conflicts",
]

_CHUNK = 500

ConflictRow = tuple[str, str, str, datetime | None, str, str, dict[str, object]]


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    return [list(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]


def customer_attributes(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, CustomerAttributes]:
    """Attributes of several customers (what the policy needs for a call list), by id."""
    found: dict[str, CustomerAttributes] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" for _ in chunk)
        sql = f"SELECT customer_id, row FROM customer WHERE customer_id IN ({marks})"
        for cid, text in conn.execute(sql, chunk):
            found[cid] = from_row(json.loads(text)["attributes"], CustomerAttributes)
    return found


def histories(
    conn: sqlite3.Connection, ids: Sequence[str], since: datetime
) -> dict[str, list[Contact]]:
    """Contacts of several customers since ``since``, oldest first, by customer id."""
    found: dict[str, list[Contact]] = defaultdict(list)
    for chunk in _chunks(ids):
        marks = ",".join("?" for _ in chunk)
        sql = (
            f"SELECT customer_id, row FROM contact WHERE customer_id IN ({marks}) "
            "AND started_at >= ? ORDER BY started_at"
        )
        for cid, text in conn.execute(sql, [*chunk, ts_text(since)]):
            found[cid].append(from_row(json.loads(text), Contact))
    return found


def recent_conflicts(conn: sqlite3.Connection, limit: int = 100) -> list[ConflictRow]:
    """The newest flagged contacts: (id, customer, channel, when, type, staff, conflict).

    ``conflict`` is the service's conflict object (rule, limit, the other contact's channel and
    agent) as stored with the contact.
    """
    rows = conn.execute(
        "SELECT contact_id, customer_id, channel, started_at, "
        "json_extract(result, '$.conflict.type') AS kind, staff_id, "
        "json_extract(result, '$.conflict') FROM contact "
        "WHERE result IS NOT NULL AND kind IS NOT NULL ORDER BY started_at DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        (
            cid,
            customer,
            channel,
            parse_ts(started) if started else None,
            kind,
            staff,
            _conflict_object(conflict),
        )
        for cid, customer, channel, started, kind, staff, conflict in rows
    ]


def _conflict_object(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def other_contact_times(conn: sqlite3.Connection, detail: dict[str, object]) -> dict[str, object]:
    """``detail`` plus ``other_at`` (ISO text) when the other contact of a conflict is cached."""
    other = detail.get("other")
    ids = other.get("contact_ids") if isinstance(other, dict) else None
    if not ids or not isinstance(ids, list):
        return detail
    row = conn.execute(
        "SELECT started_at FROM contact WHERE contact_id = ?", (str(ids[0]),)
    ).fetchone()
    return {**detail, "other_at": row[0]} if row and row[0] else detail
