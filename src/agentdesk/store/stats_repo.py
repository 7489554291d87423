"""Supervisor figures from the cache: plain SQL aggregates (the charts do the maths).

A supervisor's cache holds the team's region, so these run locally and offline. Reader
connection only.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from agentdesk.store.codec import ts_text

__all__ = [
    "CampaignProgress",
    "GroupAcceptance",
    "campaign_progress",
    "conflicts_by_type",
    "contacts_by_channel_day",
    "control_vs_treatment",
]


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    """How far a campaign's target list has been worked."""

    campaign_id: str
    targets: int
    control: int
    contacted: int
    reached: int
    accepted: int


@dataclass(frozen=True, slots=True)
class GroupAcceptance:
    """Take-up in the treated group and the control group of one campaign."""

    treatment: int
    treatment_accepted: int
    control: int
    control_accepted: int

    @property
    def treatment_rate(self) -> float:
        """Share of treated customers who took the offer."""
        return self.treatment_accepted / self.treatment if self.treatment else 0.0

    @property
    def control_rate(self) -> float:
        """Share of control customers who took a product of the campaign anyway."""
        return self.control_accepted / self.control if self.control else 0.0


def contacts_by_channel_day(
    conn: sqlite3.Connection, since: datetime
) -> list[tuple[str, str, int]]:
    """``(day YYYY-MM-DD, channel, contacts)`` since ``since`` (UTC days), oldest first."""
    rows = conn.execute(
        "SELECT substr(started_at, 1, 10) AS day, channel, count(*) FROM contact "
        "WHERE started_at >= ? GROUP BY day, channel ORDER BY day, channel",
        (ts_text(since),),
    )
    return [(str(d), str(c), int(n)) for d, c, n in rows]


def conflicts_by_type(conn: sqlite3.Connection, since: datetime) -> list[tuple[str, int]]:
    """``(conflict type, contacts)`` of contacts flagged by the server since ``since``."""
    rows = conn.execute(
        "SELECT json_extract(result, '$.conflict.type') AS kind, count(*) FROM contact "
        "WHERE started_at >= ? AND result IS NOT NULL AND kind IS NOT NULL "
        "GROUP BY kind ORDER BY count(*) DESC, kind",
        (ts_text(since),),
    )
    return [(str(k), int(n)) for k, n in rows]


def campaign_progress(conn: sqlite3.Connection) -> list[CampaignProgress]:
    """Per campaign: targets, control group, customers contacted, reached and accepted."""
    rows = conn.execute(
        "SELECT t.campaign_id, sum(t.in_control_group = 0), sum(t.in_control_group = 1), "
        "sum(EXISTS (SELECT 1 FROM contact k WHERE k.customer_id = t.customer_id "
        "AND k.campaign_id = t.campaign_id)), "
        "sum(EXISTS (SELECT 1 FROM contact k WHERE k.customer_id = t.customer_id "
        "AND k.campaign_id = t.campaign_id AND k.reached = 1)), "
        "sum(EXISTS (SELECT 1 FROM contact k WHERE k.customer_id = t.customer_id "
        "AND k.campaign_id = t.campaign_id AND k.result_code = 'reached_accepted')) "
        "FROM target_member t GROUP BY t.campaign_id ORDER BY t.campaign_id"
    )
    return [CampaignProgress(*row) for row in rows]


def control_vs_treatment(conn: sqlite3.Connection, campaign_id: str) -> GroupAcceptance:
    """Take-up of ``campaign_id`` in treatment vs control.

    A customer "accepted" when a contact of the campaign ended ``reached_accepted`` or when they
    hold one of the campaign's offer products; the second part is what measures the control
    group, who are never offered anything.
    """
    row = conn.execute(
        "WITH products AS (SELECT json_extract(row, '$.product_code') AS code FROM offer "
        "WHERE campaign_id = :k), took AS (SELECT t.in_control_group AS control, ("
        "EXISTS (SELECT 1 FROM contact k WHERE k.customer_id = t.customer_id "
        "AND k.campaign_id = :k AND k.result_code = 'reached_accepted') OR "
        "EXISTS (SELECT 1 FROM holding h WHERE h.customer_id = t.customer_id "
        "AND json_extract(h.row, '$.product_code') IN (SELECT code FROM products))) AS yes "
        "FROM target_member t WHERE t.campaign_id = :k) "
        "SELECT coalesce(sum(control = 0), 0), coalesce(sum(control = 0 AND yes), 0), "
        "coalesce(sum(control = 1), 0), coalesce(sum(control = 1 AND yes), 0) FROM took",
        {"k": campaign_id},
    ).fetchone()
    return GroupAcceptance(*row)
