"""Offline sessions report offline; conflicts and rejections become "Needs attention" items."""

from __future__ import annotations

from pathlib import Path

from agentdesk.services.sync import SyncService, attention_item
from agentdesk.store import CacheDB
from agentdesk.store.outbox import OutboxEntry


def test_offline_session_reports_offline_and_counts(tmp_path: Path) -> None:
    db = CacheDB.open(tmp_path / "cache.db")
    try:
        service = SyncService(db, None)
        report = service.run_once()
        assert report.error is not None
        assert service.status.snapshot.state == "offline"
        assert service.status.snapshot.waiting == 0
        assert service.attention() == []
    finally:
        db.close()


def test_attention_item_takes_the_conflict_type() -> None:
    entry = OutboxEntry(
        id="u1",
        client_seq=1,
        kind="contact",
        payload_schema=1,
        payload={"customer_id": "C00000001"},
        payload_hash="h",
        claim_id=None,
        fence=None,
        created_at_local="2026-11-26T10:00:00.000000Z",
        state="conflict",
        result={"status": "applied_with_conflict", "conflict": {"type": "frequency_cap"}},
    )
    item = attention_item(entry)
    assert item.code == "frequency_cap"
    assert item.customer_id == "C00000001"
    assert item.created_at is not None
