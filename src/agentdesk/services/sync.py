"""Sync as the UI sees it: one cycle on demand, the status, and the "Needs attention" list.

The cycle itself is the pure :class:`agentdesk.sync.SyncEngine`; the UI runs
:meth:`SyncService.run_once` on its own sync worker.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

from agentdesk.services.cache_reads import other_contact_times
from agentdesk.services.dto import AttentionItem
from agentdesk.store import CacheDB
from agentdesk.store.outbox import OutboxEntry
from agentdesk.store.outbox_sync import counts, dismiss, needs_attention
from agentdesk.sync import Offline, SyncEngine, SyncReport, SyncStatus

__all__ = ["SyncService", "attention_item"]


class SyncService:
    """Runs sync cycles and reads the outbox state.

    Args:
        db: the user's cache.
        engine: the sync engine, or None when the user logged in offline (no token yet).
        status: the observable status (the engine's own when an engine is given).
    """

    def __init__(
        self, db: CacheDB, engine: SyncEngine | None, status: SyncStatus | None = None
    ) -> None:
        self._db = db
        self.engine = engine
        self.status = engine.status if engine is not None else (status or SyncStatus())

    def run_once(self, cancel: threading.Event | None = None) -> SyncReport:
        """One push-then-pull cycle; never raises for network conditions."""
        if self.engine is None:
            self.refresh_counts()
            self.status.update(state="offline", last_error="offline")
            return SyncReport(error=Offline("logged in offline"))
        report = self.engine.run_once(cancel)
        self.refresh_counts()
        return report

    def refresh_counts(self) -> None:
        """Publish the outbox figures (waiting, conflicts, rejected) to the status."""
        with self._db.reader() as conn:
            figures = counts(conn)
        self.status.update(
            waiting=figures.waiting, conflicts=figures.conflicts, rejected=figures.rejected
        )

    def attention(self) -> list[AttentionItem]:
        """Conflicts and rejected items nobody dismissed yet, oldest first."""
        with self._db.reader() as conn:
            items = [attention_item(e) for e in needs_attention(conn)]
            return [
                replace(i, detail=other_contact_times(conn, i.detail)) if i.detail else i
                for i in items
            ]

    def dismiss(self, item_id: str) -> bool:
        """Hide an item from "Needs attention" (it stays in the outbox history)."""
        with self._db.writer() as conn:
            done = dismiss(conn, item_id)
        self.refresh_counts()
        return done


def attention_item(entry: OutboxEntry) -> AttentionItem:
    """The DTO of one conflict/rejected outbox entry."""
    result: dict[str, Any] = entry.result or {}
    conflict = result.get("conflict") or {}
    error = result.get("error") or {}
    code = str(conflict.get("type") or error.get("code") or entry.last_error or entry.state)
    detail = dict(conflict or error)
    try:
        created: datetime | None = datetime.fromisoformat(
            entry.created_at_local.replace("Z", "+00:00")
        )
    except ValueError:
        created = None
    return AttentionItem(
        item_id=entry.id,
        kind=entry.kind,
        state=entry.state,
        customer_id=entry.customer_id or "",
        code=code,
        detail=detail,
        created_at=created,
    )
