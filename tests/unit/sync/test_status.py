"""SyncStatus: subscribers hear about real changes only."""

from __future__ import annotations

from agentdesk.sync.status import StatusSnapshot, SyncStatus


def test_subscribers_get_each_real_change_once() -> None:
    status = SyncStatus()
    seen: list[StatusSnapshot] = []
    unsubscribe = status.subscribe(seen.append)
    status.update(state="syncing", waiting=3)
    status.update(state="syncing", waiting=3)
    status.update(waiting=0, state="online")
    unsubscribe()
    status.update(conflicts=1)
    assert [(s.state, s.waiting) for s in seen] == [("syncing", 3), ("online", 0)]
    assert status.snapshot.conflicts == 1
