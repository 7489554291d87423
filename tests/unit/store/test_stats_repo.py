"""Supervisor aggregates on the cache."""

from __future__ import annotations

from datetime import timedelta

from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes
from agentdesk.store.stats_repo import (
    campaign_progress,
    conflicts_by_type,
    contacts_by_channel_day,
    control_vs_treatment,
)
from tests.unit.store.conftest import T0, world_changes


def test_supervisor_figures(db: CacheDB) -> None:
    with db.sync_writer() as s:
        apply_changes(s, world_changes(), "c", True)
    since = T0 - timedelta(days=1)
    with db.reader() as r:
        by_day = contacts_by_channel_day(r, since)
        conflicts = conflicts_by_type(r, since)
        progress = campaign_progress(r)
        groups = control_vs_treatment(r, "K0001")
    assert by_day == [("2026-11-20", "outbound_call", 1), ("2026-11-20", "store", 1)]
    assert conflicts == [("frequency_cap", 1)]
    assert [(p.campaign_id, p.targets, p.control, p.contacted, p.reached, p.accepted)
            for p in progress] == [("K0001", 2, 1, 1, 1, 1)]  # fmt: skip
    assert (groups.treatment, groups.treatment_accepted) == (2, 1)
    assert (groups.control, groups.control_accepted) == (1, 1)
    assert groups.treatment_rate == 0.5
    assert groups.control_rate == 1.0
