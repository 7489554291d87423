"""The field user's visit plan for a day, kept on this device (table ``visit_plan_item``).

The plan is edited offline (add, remove, reorder); pre-claiming the plan stores, per customer,
either the claim the service granted (id, fence, until) or why it refused (code and detail).
Changing the plan keeps what was answered for the customers that stay in it. A saved plan has a
marker row (empty customer id, position -1), so a plan emptied on purpose stays empty instead of
falling back to the suggested visits.

A claimed visit taken out of the plan is not forgotten at once: its row stays with position
``-2`` (claim still to give back) until the claim is released or has run out, so a release that
could not reach the service is retried at the next sync. Put back in the plan, it keeps its claim.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentdesk.store.codec import dumps, loads, now_text
from agentdesk.store.lists_repo import PortfolioRow, portfolio_rows

__all__ = [
    "PlanItem",
    "claim_used",
    "forget_release",
    "held_claim",
    "load_plan",
    "plan_rows",
    "plan_saved",
    "record_claims",
    "releases_due",
    "save_plan",
]

_MARKER = ""
_RELEASE = -2  # position of a removed visit whose claim is still to be given back


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One planned visit.

    Attributes:
        customer_id: the customer to visit.
        position: 0-based place in the day's order.
        claim_id: the pre-claim held, if any.
        fence: its fencing token.
        claim_until: the service's lease end (UTC text), if claimed.
        refused_code: why the service refused the claim (``claimed``, ``policy_blocked``, ...).
        refused_detail: the refusal's details (holder, policy reasons).
    """

    customer_id: str
    position: int
    claim_id: str | None = None
    fence: int | None = None
    claim_until: str | None = None
    refused_code: str | None = None
    refused_detail: dict[str, Any] | None = None


def load_plan(conn: sqlite3.Connection, day: str) -> list[PlanItem]:
    """The plan of ``day`` (``YYYY-MM-DD``) in visiting order; empty when none was made."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM visit_plan_item "
        "WHERE day = ? AND customer_id != ? AND position >= 0 ORDER BY position",
        (day, _MARKER),
    )
    return [_item(row) for row in rows]


_COLUMNS = "customer_id, position, claim_id, fence, claim_until, refused_code, refused_detail"


def _item(row: Sequence[Any]) -> PlanItem:
    cid, pos, claim, fence, until, code, detail = row
    return PlanItem(cid, pos, claim, fence, until, code, loads(detail) if detail else None)


def save_plan(conn: sqlite3.Connection, day: str, customer_ids: Sequence[str]) -> None:
    """Make ``customer_ids`` (duplicates dropped) the plan of ``day``, in this order.

    Claim answers of customers that stay in the plan are kept; removed customers lose theirs,
    except a claim held: that row waits (position ``-2``) until :func:`forget_release`.
    """
    ids = [i for i in dict.fromkeys(customer_ids) if i != _MARKER]
    keep = [_MARKER, *ids]
    marks = ", ".join("?" for _ in keep)
    conn.execute(
        f"UPDATE visit_plan_item SET position = ? WHERE day = ? AND customer_id NOT IN ({marks}) "
        "AND claim_id IS NOT NULL",
        (_RELEASE, day, *keep),
    )
    conn.execute(
        f"DELETE FROM visit_plan_item WHERE day = ? AND customer_id NOT IN ({marks}) "
        "AND claim_id IS NULL",
        (day, *keep),
    )
    conn.executemany(
        "INSERT INTO visit_plan_item (day, customer_id, position) VALUES (?, ?, ?) "
        "ON CONFLICT (day, customer_id) DO UPDATE SET position = excluded.position",
        [(day, _MARKER, -1), *((day, cid, pos) for pos, cid in enumerate(ids))],
    )


def plan_saved(conn: sqlite3.Connection, day: str) -> bool:
    """Whether a plan was saved for ``day`` (an empty one included)."""
    row = conn.execute(
        "SELECT 1 FROM visit_plan_item WHERE day = ? AND customer_id = ?", (day, _MARKER)
    ).fetchone()
    return row is not None


def record_claims(
    conn: sqlite3.Connection,
    day: str,
    held: Mapping[str, tuple[str, int, str]],
    refused: Mapping[str, tuple[str, dict[str, Any]]],
) -> None:
    """Store what pre-claiming answered.

    Args:
        conn: a writer connection.
        day: the plan's day.
        held: customer id -> (claim id, fence, lease end as UTC text).
        refused: customer id -> (error code, details).
    """
    at = now_text()
    conn.executemany(
        "UPDATE visit_plan_item SET claim_id = ?, fence = ?, claim_until = ?, "
        "refused_code = NULL, refused_detail = NULL, answered_at = ? "
        "WHERE day = ? AND customer_id = ?",
        [(claim_id, fence, until, at, day, cid) for cid, (claim_id, fence, until) in held.items()],
    )
    conn.executemany(
        "UPDATE visit_plan_item SET claim_id = NULL, fence = NULL, claim_until = NULL, "
        "refused_code = ?, refused_detail = ?, answered_at = ? WHERE day = ? AND customer_id = ?",
        [(code, dumps(detail), at, day, cid) for cid, (code, detail) in refused.items()],
    )


def held_claim(conn: sqlite3.Connection, customer_id: str) -> PlanItem | None:
    """The planned visit of ``customer_id`` holding the claim that runs longest (any day), if any.

    Whether it still runs is the caller's question (``claim_until`` against its clock).
    """
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM visit_plan_item WHERE customer_id = ? AND position >= 0 "
        "AND claim_id IS NOT NULL ORDER BY claim_until DESC LIMIT 1",
        (customer_id,),
    ).fetchone()
    return None if row is None else _item(row)


def claim_used(conn: sqlite3.Connection, claim_id: str) -> None:
    """An outcome was saved under ``claim_id``: it gives the claim back, the plan forgets it."""
    conn.execute(
        "UPDATE visit_plan_item SET claim_id = NULL, fence = NULL, claim_until = NULL "
        "WHERE claim_id = ? AND position >= 0",
        (claim_id,),
    )
    conn.execute(
        "DELETE FROM visit_plan_item WHERE claim_id = ? AND position = ?", (claim_id, _RELEASE)
    )


def releases_due(conn: sqlite3.Connection) -> list[tuple[str, PlanItem]]:
    """Removed visits whose claim is still to be given back, as (day, item), any day."""
    rows = conn.execute(
        f"SELECT day, {_COLUMNS} FROM visit_plan_item WHERE position = ? "
        "AND claim_id IS NOT NULL ORDER BY claim_until",
        (_RELEASE,),
    )
    return [(row[0], _item(row[1:])) for row in rows]


def forget_release(conn: sqlite3.Connection, day: str, customer_id: str) -> None:
    """The claim of a removed visit was given back (or ran out): drop the row."""
    conn.execute(
        "DELETE FROM visit_plan_item WHERE day = ? AND customer_id = ? AND position = ?",
        (day, customer_id, _RELEASE),
    )


def plan_rows(
    conn: sqlite3.Connection, day: str, *, now: datetime | None = None
) -> list[tuple[PlanItem, PortfolioRow]]:
    """The plan of ``day`` with each customer's portfolio row (customers no longer cached drop)."""
    items = load_plan(conn, day)
    if not items:
        return []
    found = portfolio_rows(conn, [i.customer_id for i in items], now)
    return [(i, found[i.customer_id]) for i in items if i.customer_id in found]
