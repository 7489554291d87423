""" "This data is wrong" is queued like an outcome (outbox kind ``feedback``), offline too."""

from __future__ import annotations

from pathlib import Path

from agentdesk.services.outcome import FeedbackService
from agentdesk.store import CacheDB
from agentdesk.store.outbox import get_entry
from agentdesk.store.outbox_sync import counts


def test_report_wrong_data_waits_in_the_outbox(tmp_path: Path) -> None:
    db = CacheDB.open(tmp_path / "cache.db")
    try:
        item_id = FeedbackService(db).report(
            "C00000001",
            panel="holdings",
            field="monthly_fee",
            reported_value="58",
            correct_value="128",
            note="客户说已升级套餐",
        )
        with db.reader() as conn:
            entry = get_entry(conn, item_id)
            waiting = counts(conn).waiting
        assert entry is not None
        assert entry.kind == "feedback"
        assert entry.payload["correct_value"] == "128"
        assert waiting == 1
    finally:
        db.close()
