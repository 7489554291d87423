"""The sync bar's state label takes the theme's colour of the state it shows.

Its ``online`` property is set before the bar is first shown (the window is built) and again at
each status change; the colour must follow both.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QPalette

from agentdesk.app import ensure_app
from agentdesk.sync.status import StatusSnapshot
from agentdesk.ui.views.sync_bar import SyncBar


def _colour(bar: SyncBar) -> QColor:
    return bar.state.palette().color(QPalette.ColorRole.WindowText)


def test_state_colour_follows_the_status(qtbot: Any) -> None:
    ensure_app()  # the theme
    bar = SyncBar()
    qtbot.addWidget(bar)
    bar.show()
    qtbot.waitExposed(bar)
    offline = _colour(bar)  # built offline: the theme's danger colour
    assert bar.state.text() == "● Offline"
    bar.show_snapshot(StatusSnapshot(state="online"))
    online = _colour(bar)
    assert bar.state.text() == "● Online"
    assert online != offline
    bar.show_snapshot(StatusSnapshot(state="offline", last_error="offline"))
    assert _colour(bar) == offline
    bar.show_snapshot(StatusSnapshot(state="online"))
    bar.show_snapshot(StatusSnapshot(state="syncing"))  # still in contact: the same colour
    assert _colour(bar) == online


def test_attention_count_colour_follows_the_count(qtbot: Any) -> None:
    ensure_app()
    bar = SyncBar()
    qtbot.addWidget(bar)
    bar.show()
    qtbot.waitExposed(bar)
    muted = bar.attention.palette().color(QPalette.ColorRole.ButtonText)
    bar.show_snapshot(StatusSnapshot(conflicts=2))
    assert bar.attention.text() == "Needs attention (2)"
    assert bar.attention.palette().color(QPalette.ColorRole.ButtonText) != muted
    bar.show_snapshot(StatusSnapshot())
    assert bar.attention.palette().color(QPalette.ColorRole.ButtonText) == muted
