"""Keyboard-only work: find a customer, pitch, log the outcome, see it waiting for sync."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

from agentdesk.domain import Reaction, ResultCode, Role
from agentdesk.store.outbox_sync import counts
from agentdesk.ui.views.outcome_form import RESULT_KEYS


def type_chinese(widget: Any, text: str) -> None:
    """What a pinyin input method does: commit the chosen characters in one event."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def _open_by_search(qtbot: Any, ui: Any, text: str) -> Any:
    window = ui.window
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.box.hasFocus()
    with qtbot.waitSignal(window.customer.sig_opened, timeout=5000) as opened:
        type_chinese(window.search.box, text)
        qtbot.keyClick(window.search.box, Qt.Key.Key_Return)
    return opened.args[0]


def test_two_chinese_characters_then_enter_opens_the_customer(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui()
    screen = _open_by_search(qtbot, ui, "王小")
    assert screen.view.attributes.name.startswith("王小")
    assert ui.window.customer.header.name.text() == screen.view.attributes.name
    assert "****" in ui.window.customer.header.ids.text()  # call centre sees masked numbers


def test_keyboard_only_outcome_is_saved_durably_and_waits_for_sync(
    qtbot: Any, make_ui: Any
) -> None:
    ui = make_ui()
    screen = _open_by_search(qtbot, ui, "王小")
    assert screen.offers, "the seeded campaign has offers for this customer"
    window = ui.window
    qtbot.keyClick(window, Qt.Key.Key_F6)  # accept the current offer
    assert window.customer.offers.reactions()[0].reaction is Reaction.ACCEPT
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert window.customer.outcome.current_result() is RESULT_KEYS[0]
    with qtbot.waitSignal(window.customer.sig_saved, timeout=5000) as saved:
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert saved.args[0].customer_id == screen.view.customer_id
    assert "Saved at" in window.customer.outcome.status.text()
    with ui.services.db.reader() as conn:
        assert counts(conn).waiting == 1
    row = _local_contact(ui, saved.args[0].contact_id)
    assert row["result_code"] == ResultCode.REACHED_ACCEPTED.value
    assert row["reactions"][0]["reaction"] == "accept"


def test_save_without_result_code_asks_for_one_and_saves_nothing(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui()
    _open_by_search(qtbot, ui, "王小")
    qtbot.keyClick(ui.window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "Alt+1" in ui.window.customer.outcome.status.text()
    with ui.services.db.reader() as conn:
        assert counts(conn).waiting == 0


def test_call_back_offers_only_times_the_policy_allows(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui()
    screen = _open_by_search(qtbot, ui, "王小")
    form = ui.window.customer.outcome
    form.select_result(RESULT_KEYS.index(ResultCode.REACHED_CALLBACK))
    assert form.appointment.isEnabled()
    offered = [form.appointment.itemData(i) for i in range(1, form.appointment.count())]
    assert offered
    assert offered == list(screen.appointment_slots)
    assert form.appointment.currentData() == offered[0]


def test_next_customer_walks_the_call_list(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui(Role.CALL_CENTRE)
    home = ui.window.home
    with qtbot.waitSignal(home.table.rows_model.modelReset, timeout=5000):
        ui.window.refresh_home()
    first = home.table.rows_model.row_object(0)
    second = home.table.rows_model.row_object(1)
    model = home.table.rows_model
    outcomes = [model.row_object(i).outcome for i in range(model.rowCount())]
    # callable customers first, deferred ones (e.g. everyone during quiet hours) after them
    assert outcomes == sorted(outcomes, key=lambda o: o != "allowed")
    assert first.customer_id != second.customer_id
    home.table.selectRow(0)
    with qtbot.waitSignal(ui.window.customer.sig_opened, timeout=5000) as opened:
        qtbot.keyClick(ui.window, Qt.Key.Key_F4)
    assert opened.args[0].view.customer_id == second.customer_id


def test_field_user_sees_full_numbers_and_visit_plan(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui(Role.FIELD)
    home = ui.window.home
    with qtbot.waitSignal(home.portfolio.rows_model.modelReset, timeout=5000):
        ui.window.refresh_home()
    qtbot.waitUntil(lambda: home.today.rows_model.rowCount() > 0, timeout=5000)
    assert home.today.rows_model.rowCount() <= 8
    first = home.today.rows_model.row_object(0)
    with qtbot.waitSignal(ui.window.customer.sig_opened, timeout=5000) as opened:
        ui.window.open_customer(first.customer_id)
    assert "****" not in ui.window.customer.header.ids.text()
    assert opened.args[0].channel.value == "field_visit"


def _local_contact(ui: Any, contact_id: str) -> dict[str, Any]:
    import json

    with ui.services.db.reader() as conn:
        text = conn.execute(
            "SELECT row FROM contact WHERE contact_id = ?", (contact_id,)
        ).fetchone()[0]
    return json.loads(text)


def test_offer_cards_in_chinese_have_distinct_translated_reasons(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui(language="zh_CN")
    with qtbot.waitSignal(ui.window.customer.sig_opened, timeout=20000):
        ui.window.open_customer("C00000010")  # segment SS1: high value, offers made for it
    cards = ui.window.customer.offers.cards
    assert cards
    for card in cards:
        lines = card.reasons.text().splitlines()
        assert len(lines) == len(set(lines)), lines
        assert "/月" in card.title.text()
        assert "month" not in card.title.text()
