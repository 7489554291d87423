"""Store counter home (today's walk-ins) and call-backs due at the top of the call list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt

from agentdesk.domain import ResultCode, Role
from agentdesk.protocol import CallbackPayload
from agentdesk.store.outbox import record_intent
from agentdesk.ui.views.counter import StoreCounterView
from agentdesk.ui.views.outcome_form import RESULT_KEYS


def test_store_clerk_home_lists_todays_walk_ins(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui(Role.STORE)
    home = ui.window.home
    assert isinstance(home, StoreCounterView)
    with qtbot.waitSignal(home.table.rows_model.modelReset, timeout=5000):
        ui.window.refresh_home()
    assert home.table.rows_model.rowCount() == 0
    with qtbot.waitSignal(ui.window.customer.sig_opened, timeout=5000):
        ui.window.open_customer("C00000012")
    ui.window.customer.select_result(RESULT_KEYS.index(ResultCode.REACHED_NO_OFFER))
    with qtbot.waitSignal(home.table.rows_model.modelReset, timeout=5000):
        qtbot.keyClick(ui.window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert home.table.rows_model.rowCount() == 1
    assert home.table.rows_model.row_object(0).customer_id == "C00000012"
    assert home.title.text() == "Served at this counter today (1)"
    ui.window.work.setCurrentIndex(1)
    qtbot.keyClick(ui.window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # one key
    assert ui.window.work.currentWidget() is home


def test_call_backs_due_today_head_the_call_list(qtbot: Any, make_ui: Any, seeded_db: Any) -> None:
    now = datetime.now(UTC).astimezone()
    today = now.replace(hour=12, minute=0, second=0, microsecond=0)
    with seeded_db.writer() as conn:
        for cid, when in (("C00000030", today), ("C00000031", today + timedelta(days=2))):
            payload = CallbackPayload(customer_id=cid, due_at=when.isoformat(), note="回电")
            record_intent(conn, "callback", payload)
    ui = make_ui(Role.CALL_CENTRE)
    callbacks = ui.window.home.callbacks
    with qtbot.waitSignal(callbacks.table.rows_model.modelReset, timeout=5000):
        ui.window.refresh_home()
    assert callbacks.isVisibleTo(ui.window)
    assert [r.customer_id for r in callbacks.table.rows_model.rows()] == ["C00000030"]
    assert callbacks.title.text() == "Call-backs due today (1)"
