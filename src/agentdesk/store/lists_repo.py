"""Work lists: the outbound call list, a field user's portfolio and visit plan.

Each list pages with ``LIMIT/OFFSET`` over an index order; the contact-history aggregates are
correlated sub-queries evaluated only for the rows of the page, so a 100 k-member target list
costs the same as a 50-member one. Reader connection only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agentdesk.store.codec import loads, ts_text

__all__ = ["CallListRow", "PortfolioRow", "call_list", "portfolio", "visit_plan"]

_HISTORY = (
    "(SELECT count(*) FROM contact k WHERE k.customer_id = c.customer_id "
    "AND k.campaign_id = t.campaign_id) AS attempts, "
    "(SELECT coalesce(sum(k.reached), 0) FROM contact k WHERE k.customer_id = c.customer_id "
    "AND k.campaign_id = t.campaign_id) AS reached, "
    "(SELECT count(*) FROM contact k WHERE k.customer_id = c.customer_id AND k.is_marketing = 1 "
    "AND k.started_at >= :week) AS marketing_7d, "
    "(SELECT max(k.started_at) FROM contact k WHERE k.customer_id = c.customer_id) AS last_at"
)


@dataclass(frozen=True, slots=True)
class CallListRow:
    """One customer to call for one campaign, with what the contact history says."""

    campaign_id: str
    customer_id: str
    name: str
    msisdn: str
    segment_id: str
    value_tier: int
    churn_risk: float
    score: float
    wave: int
    assigned_channel: str | None
    attempts: int
    reached: int
    marketing_contacts_7d: int
    last_contact_at: str | None


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    """One customer of a field user's portfolio."""

    customer_id: str
    name: str
    msisdn: str
    segment_id: str
    value_tier: int
    churn_risk: float
    churn_level: str
    last_contact_at: str | None
    contacts_30d: int
    open_orders: int


def call_list(
    conn: sqlite3.Connection,
    campaign_ids: Sequence[str],
    *,
    channel: str | None = None,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[CallListRow]:
    """Target members (never the control group) of ``campaign_ids``, best score first.

    Args:
        conn: a reader connection.
        campaign_ids: the campaigns to work (one campaign pages on its score index).
        channel: only members assigned to this channel (or to none).
        limit: page size.
        offset: page start.
        now: for the 7-day marketing-contact count.

    Returns:
        One page of the list.
    """
    if not campaign_ids:
        return []
    marks = ", ".join(f":k{i}" for i in range(len(campaign_ids)))
    params: dict[str, Any] = {f"k{i}": k for i, k in enumerate(campaign_ids)}
    params.update(
        week=ts_text((now or datetime.now(UTC)) - timedelta(days=7)),
        channel=channel,
        limit=limit,
        offset=offset,
    )
    sql = (
        "SELECT t.campaign_id, c.customer_id, c.name, c.msisdn, c.segment_id, c.value_tier, "
        f"c.churn_risk, t.score, t.wave, t.assigned_channel, {_HISTORY} "
        "FROM target_member t JOIN customer c ON c.customer_id = t.customer_id "
        f"WHERE t.campaign_id IN ({marks}) AND t.in_control_group = 0 "
        "AND (:channel IS NULL OR t.assigned_channel IS NULL OR t.assigned_channel = :channel) "
        "ORDER BY t.score DESC LIMIT :limit OFFSET :offset"
    )
    return [CallListRow(*row) for row in conn.execute(sql, params)]


_PORTFOLIO_SELECT = (
    "SELECT c.customer_id, c.name, c.msisdn, c.segment_id, c.value_tier, c.churn_risk, "
    "c.churn_level, "
    "(SELECT max(k.started_at) FROM contact k WHERE k.customer_id = c.customer_id), "
    "(SELECT count(*) FROM contact k WHERE k.customer_id = c.customer_id "
    "AND k.started_at >= ?), "
    "(SELECT count(*) FROM marketing_order o WHERE o.customer_id = c.customer_id "
    "AND o.status IN ('open', 'in_progress')) "
)
"""The columns of a :class:`PortfolioRow`; its one parameter is the start of the 30-day window."""


def _month_ago(now: datetime | None) -> str | None:
    return ts_text((now or datetime.now(UTC)) - timedelta(days=30))


def portfolio_rows(
    conn: sqlite3.Connection, ids: Sequence[str], now: datetime | None = None
) -> dict[str, PortfolioRow]:
    """The portfolio rows of the cached customers among ``ids``, by customer id."""
    marks = ", ".join("?" for _ in ids)
    sql = _PORTFOLIO_SELECT + f"FROM customer c WHERE c.customer_id IN ({marks})"
    return {row[0]: PortfolioRow(*row) for row in conn.execute(sql, (_month_ago(now), *ids))}


def portfolio(
    conn: sqlite3.Connection,
    account_manager_id: str,
    *,
    limit: int = 500,
    offset: int = 0,
    now: datetime | None = None,
) -> list[PortfolioRow]:
    """A field user's customers, most at risk and most valuable first."""
    sql = (
        _PORTFOLIO_SELECT + "FROM customer c WHERE c.account_manager_id = ? "
        "ORDER BY c.churn_risk DESC, c.value_tier, c.customer_id LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, (_month_ago(now), account_manager_id, limit, offset))
    return [PortfolioRow(*row) for row in rows]


def visit_plan(conn: sqlite3.Connection, day: str) -> list[PortfolioRow]:
    """Customers of the visit plans recorded on this device for ``day`` (``YYYY-MM-DD``)."""
    ids: list[str] = []
    for (payload,) in conn.execute(
        "SELECT payload FROM outbox WHERE kind = 'visit_plan' AND dismissed_at IS NULL "
        "AND json_extract(payload, '$.day') = ? ORDER BY client_seq",
        (day,),
    ):
        ids.extend(i for i in loads(payload).get("customer_ids", []) if i not in ids)
    if not ids:
        return []
    found = portfolio_rows(conn, ids)
    return [found[i] for i in ids if i in found]
