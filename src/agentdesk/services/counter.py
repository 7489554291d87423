"""Today's lists that come from the user's own work: the store counter's walk-in history and
the call-backs this user promised for today.

Both read the user's cache only (local contacts, the outbox), so they work offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agentdesk.services.dto import UserSession
from agentdesk.store import CacheDB
from agentdesk.store.codec import parse_ts, ts_text

__all__ = ["CallbackDue", "CounterService", "WalkIn"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WalkIn:
    """A customer served at this counter today."""

    customer_id: str
    name: str
    served_at: datetime
    result_code: str


@dataclass(frozen=True, slots=True)
class CallbackDue:
    """A call-back this user recorded, due today."""

    customer_id: str
    name: str
    due_at: datetime
    note: str = ""


class CounterService:
    """Walk-ins served today and call-backs due today, for the current user.

    Args:
        db: the user's cache.
        session: the logged-in user.
        clock: wall clock (tests pin it); "today" is the machine's local day.
    """

    def __init__(self, db: CacheDB, session: UserSession, clock: Clock = _utc_now) -> None:
        self._db = db
        self._session = session
        self._clock = clock

    def _today(self) -> tuple[datetime, datetime]:
        local = self._clock().astimezone()
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)

    def walk_ins(self) -> list[WalkIn]:
        """Customers this user served in the store today, newest first."""
        start, end = self._today()
        with self._db.reader() as conn:
            rows = conn.execute(
                "SELECT k.customer_id, coalesce(c.name, ''), k.started_at, k.result_code "
                "FROM contact k LEFT JOIN customer c ON c.customer_id = k.customer_id "
                "WHERE k.staff_id = ? AND k.channel = 'store' AND k.started_at >= ? "
                "AND k.started_at < ? ORDER BY k.started_at DESC LIMIT 500",
                (self._session.user.user_id, ts_text(start), ts_text(end)),
            ).fetchall()
        return [WalkIn(cid, name, parse_ts(at), code) for cid, name, at, code in rows]

    def callbacks_due(self) -> list[CallbackDue]:
        """Call-backs this user recorded, due today, earliest first.

        Both kinds count: ``callback`` intents in the outbox and the next appointment set on an
        outcome this user saved (a contact's ``next_appointment_at``).
        """
        start, end = self._today()
        with self._db.reader() as conn:
            rows = conn.execute(
                "SELECT o.payload, coalesce(c.name, '') FROM outbox o LEFT JOIN customer c "
                "ON c.customer_id = json_extract(o.payload, '$.customer_id') "
                "WHERE o.kind = 'callback' AND o.state != 'rejected' "
                "UNION ALL SELECT json_object('customer_id', k.customer_id, 'due_at', "
                "json_extract(k.row, '$.next_appointment_at'), 'note', "
                "json_extract(k.row, '$.note')), coalesce(c.name, '') FROM contact k "
                "LEFT JOIN customer c ON c.customer_id = k.customer_id WHERE k.staff_id = ? "
                "AND json_extract(k.row, '$.next_appointment_at') IS NOT NULL",
                (self._session.user.user_id,),
            ).fetchall()
        due: list[CallbackDue] = []
        for text, name in rows:
            payload = json.loads(text)
            try:
                at = parse_ts(str(payload.get("due_at", "")))
            except ValueError:
                continue
            if start <= at < end:
                cid = str(payload["customer_id"])
                due.append(CallbackDue(cid, name, at, str(payload.get("note") or "")))
        return sorted(due, key=lambda d: d.due_at)
