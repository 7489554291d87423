"""Work queues: the outbound call list, the field visit plan and portfolio, supervisor figures.

All computed from the local cache (offline included). The call list is ranked by the seed-004
selection score with the contact policy applied now: callable customers first (best score
first), then the deferred ones with when they come back.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from agentdesk.domain import Channel, Contact
from agentdesk.protocol import from_row
from agentdesk.recommend import CallListEntry as RankInput
from agentdesk.recommend import rank_call_list
from agentdesk.services import cache_reads
from agentdesk.services.dto import (
    AttentionItem,
    CallListEntry,
    CampaignProgress,
    SupervisorStats,
    UserSession,
    VisitEntry,
)
from agentdesk.services.masking import show_phone
from agentdesk.store import CacheDB
from agentdesk.store.codec import parse_ts

__all__ = ["CallListService", "SupervisorService", "VisitPlanService"]

Clock = Callable[[], datetime]
CALL_LIST_SIZE = 200


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _contacts_by_customer(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[Contact]]:
    found: dict[str, list[Contact]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ",".join("?" for _ in chunk)
        rows = conn.execute(
            f"SELECT customer_id, row FROM contact WHERE customer_id IN ({marks})", chunk
        ).fetchall()
        for cid, text in rows:
            found[cid].append(from_row(json.loads(text), Contact))
    return found


class CallListService:
    """The call-centre agent's outbound list."""

    def __init__(self, db: CacheDB, session: UserSession, clock: Clock = _utc_now) -> None:
        self._db = db
        self._session = session
        self._clock = clock

    def entries(self) -> list[CallListEntry]:
        """Callable customers by score, then deferred ones (blocked ones are left out)."""
        now = self._clock()
        with self._db.reader() as conn:
            campaigns = {c.campaign_id: c for c in cache_reads.campaigns(conn) if c.active_at(now)}
            rows = conn.execute(
                "SELECT customer_id, campaign_id FROM target_member WHERE in_control_group = 0 "
                "AND (assigned_channel IS NULL OR assigned_channel = 'outbound_call') "
                "ORDER BY score DESC LIMIT ?",
                (CALL_LIST_SIZE * 3,),
            ).fetchall()
            rows = [(cid, kid) for cid, kid in rows if kid in campaigns]
            ids = list(dict.fromkeys(cid for cid, _k in rows))[:CALL_LIST_SIZE]
            attrs = cache_reads.customer_attributes(conn, ids)
            history = _contacts_by_customer(conn, ids)
            claims = [c for cid in ids if (c := cache_reads.active_claim(conn, cid, now))]
            rules = cache_reads.rules(conn)
        first_campaign = {}
        for cid, kid in rows:
            first_campaign.setdefault(cid, kid)
        inputs = [
            RankInput(
                customer=attrs[cid],
                history=tuple(history.get(cid, ())),
                campaign=campaigns[first_campaign[cid]],
            )
            for cid in ids
            if cid in attrs
        ]
        ranked = rank_call_list(
            inputs,
            claims,
            rules,
            now,
            user_id=self._session.user.user_id,
            campaigns=list(campaigns.values()),
        )
        role = self._session.role
        out = [
            CallListEntry(
                e.customer.customer_id,
                e.customer.name,
                show_phone(e.customer.msisdn, role),
                s.score,
                e.campaign.name if e.campaign else "",
                "allowed",
            )
            for e, s in ranked.ready
        ]
        out += [
            CallListEntry(
                e.customer.customer_id,
                e.customer.name,
                show_phone(e.customer.msisdn, role),
                0.0,
                e.campaign.name if e.campaign else "",
                "deferred",
                d.deferred_until,
            )
            for e, d in ranked.deferred
        ]
        return out


class VisitPlanService:
    """The account manager's portfolio and today's visit plan."""

    def __init__(self, db: CacheDB, session: UserSession, clock: Clock = _utc_now) -> None:
        self._db = db
        self._session = session
        self._clock = clock

    def portfolio(self) -> list[VisitEntry]:
        """Every customer of the portfolio (a field user's cache is the portfolio), best first."""
        with self._db.reader() as conn:
            rows = conn.execute(
                "SELECT customer_id, name, json_extract(row, '$.attributes.contact_address'), "
                "segment_id, value_tier, churn_risk FROM customer "
                "ORDER BY value_tier, churn_risk DESC LIMIT 5000"
            ).fetchall()
            visited = self._visited_today(conn)
        return [
            VisitEntry(cid, name, addr or "", seg, tier, visited=cid in visited)
            for cid, name, addr, seg, tier, _risk in rows
        ]

    def today(self) -> list[VisitEntry]:
        """Today's plan: the customers most worth a visit (churn risk, value), at most 8."""
        entries = sorted(self.portfolio(), key=lambda e: (e.visited, e.value_tier))
        return [
            VisitEntry(e.customer_id, e.name, e.address, e.segment, e.value_tier, True, e.visited)
            for e in entries[:8]
        ]

    def _visited_today(self, conn: sqlite3.Connection) -> set[str]:
        start = self._clock().strftime("%Y-%m-%dT00:00:00")
        rows = conn.execute(
            "SELECT customer_id FROM contact WHERE staff_id = ? AND started_at >= ?",
            (self._session.user.user_id, start),
        ).fetchall()
        return {r[0] for r in rows}


class SupervisorService:
    """Campaign progress and conflicts for the supervisor's charts."""

    def __init__(self, db: CacheDB, session: UserSession) -> None:
        self._db = db
        self._session = session

    def stats(self) -> SupervisorStats:
        """Per-campaign figures and conflicts by type and channel."""
        with self._db.reader() as conn:
            campaigns = cache_reads.campaigns(conn)
            sizes = dict.fromkeys([c.campaign_id for c in campaigns], (0, 0))
            for kid, control, n in conn.execute(
                "SELECT campaign_id, in_control_group, count(*) FROM target_member GROUP BY 1, 2"
            ):
                targets, ctrl = sizes.get(kid, (0, 0))
                sizes[kid] = (targets, ctrl + n) if control else (targets + n, ctrl)
            figures = {
                kid: (n, reached or 0, accepted or 0)
                for kid, n, reached, accepted in conn.execute(
                    "SELECT campaign_id, count(*), sum(reached), "
                    "sum(result_code = 'reached_accepted') FROM contact "
                    "WHERE campaign_id IS NOT NULL GROUP BY campaign_id"
                )
            }
            by_channel: dict[str, dict[str, int]] = defaultdict(dict)
            for kid, channel, n in conn.execute(
                "SELECT campaign_id, channel, count(*) FROM contact WHERE campaign_id IS NOT NULL "
                "GROUP BY 1, 2"
            ):
                by_channel[kid][channel] = n
            conflicts = self._conflicts(conn)
        progress = tuple(
            CampaignProgress(
                campaign_id=c.campaign_id,
                name=c.name,
                targets=sizes[c.campaign_id][0],
                contacted=figures.get(c.campaign_id, (0, 0, 0))[0],
                reached=figures.get(c.campaign_id, (0, 0, 0))[1],
                accepted=figures.get(c.campaign_id, (0, 0, 0))[2],
                control_size=sizes[c.campaign_id][1],
                by_channel=by_channel.get(c.campaign_id, {}),
            )
            for c in campaigns
        )
        by_type: dict[str, int] = defaultdict(int)
        by_chan: dict[str, int] = defaultdict(int)
        for item in conflicts:
            by_type[item.code] += 1
            by_chan[str(item.detail.get("channel", ""))] += 1
        return SupervisorStats(progress, dict(by_type), dict(by_chan), tuple(conflicts[:100]))

    def _conflicts(self, conn: sqlite3.Connection) -> list[AttentionItem]:
        rows = conn.execute(
            "SELECT contact_id, customer_id, channel, started_at, "
            "json_extract(result, '$.conflict.type'), staff_id FROM contact "
            "WHERE json_extract(result, '$.conflict.type') IS NOT NULL "
            "ORDER BY started_at DESC LIMIT 2000"
        ).fetchall()
        return [
            AttentionItem(
                item_id=cid,
                kind="contact",
                state="conflict",
                customer_id=customer,
                code=kind,
                detail={"channel": channel, "summary": f"{staff} · {Channel(channel).value}"},
                created_at=parse_ts(started) if started else None,
            )
            for cid, customer, channel, started, kind, staff in rows
        ]
