"""The sync bar's "last sync" and a tab's "synced" name the day when it was not today.

A field account manager may work offline for days: a bare ``18:51`` from two days ago reads
as a sync later today.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agentdesk.app import ensure_app
from agentdesk.sync.status import StatusSnapshot
from agentdesk.ui import texts
from agentdesk.ui.views.sync_bar import SyncBar


def _bar(qtbot: Any) -> SyncBar:
    ensure_app()
    bar = SyncBar()
    qtbot.addWidget(bar)
    return bar


def test_a_sync_of_today_shows_the_time_only(qtbot: Any) -> None:
    bar = _bar(qtbot)
    now = datetime.now(UTC)
    bar.show_snapshot(StatusSnapshot(state="online", last_success=now))
    assert bar.last.text() == f"last sync {texts.fmt_time(now)}"


def test_a_sync_two_days_ago_names_the_day(qtbot: Any) -> None:
    bar = _bar(qtbot)
    then = datetime.now(UTC) - timedelta(days=2)
    bar.show_snapshot(StatusSnapshot(state="offline", last_success=then))
    day = texts.fmt_date(then.astimezone().date())
    assert bar.last.text() == f"last sync {day} {texts.fmt_time(then)}"


def test_when_compares_local_days() -> None:
    ensure_app()
    local = datetime(2026, 11, 26, 23, 50).astimezone()
    assert texts.fmt_when(local, now=local + timedelta(minutes=5)) == "23:50"
    assert texts.fmt_when(local, now=local + timedelta(minutes=15)) == "yesterday 23:50"
    assert texts.fmt_when(local + timedelta(minutes=15), now=local) == "tomorrow 00:05"
    assert texts.fmt_when(local - timedelta(days=2), now=local).endswith(" 23:50")
