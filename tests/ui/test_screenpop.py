"""Screen-pop: a number handed to the running window opens 0, 1 or several matches."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from PySide6.QtCore import Qt

from agentdesk.ui.screenpop import ScreenPopServer, send_to_running
from agentdesk.ui.views.dialogs import PickCustomerDialog
from tests.ui.conftest import FAMILY_MSISDN


@pytest.fixture
def popped(make_ui: Any) -> Any:
    """A window listening on its own screen-pop socket name."""
    ui = make_ui()
    server = ScreenPopServer(f"agentdesk-test-{uuid.uuid4().hex[:8]}")
    assert server.listen()
    server.sig_msisdn.connect(ui.window.open_msisdn)
    yield ui, server
    server.close()


def test_one_match_opens_the_customer(qtbot: Any, popped: Any) -> None:
    ui, server = popped
    with qtbot.waitSignal(ui.window.customer.sig_opened, timeout=5000) as opened:
        assert send_to_running("138-0000-0012", server.name)
    assert opened.args[0].view.customer_id == "C00000012"
    assert opened.args[0].channel.value == "inbound_call"


def test_several_matches_ask_which_one_and_enter_opens_it(qtbot: Any, popped: Any) -> None:
    ui, server = popped
    with (
        qtbot.waitSignal(ui.window.sig_screen_pop_done, timeout=5000) as done,
        qtbot.waitSignal(ui.window.customer.sig_opened, timeout=5000) as opened,
    ):
        assert send_to_running(FAMILY_MSISDN, server.name)
        qtbot.waitUntil(
            lambda: isinstance(getattr(ui.window, "pick_dialog", None), PickCustomerDialog)
        )
        dialog = ui.window.pick_dialog
        qtbot.waitUntil(dialog.isVisible)
        assert dialog.list.count() == 2
        qtbot.keyClick(dialog.list, Qt.Key.Key_Down)
        qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    assert done.args == ["picked"]
    assert opened.args[0].view.customer_id == "C00000004"


def test_no_match_prefills_the_search(qtbot: Any, popped: Any) -> None:
    ui, server = popped
    with qtbot.waitSignal(ui.window.sig_screen_pop_done, timeout=5000) as done:
        assert send_to_running("13711112222", server.name)
    assert done.args == ["none"]
    assert ui.window.search.box.text() == "13711112222"
    assert ui.window.work.currentWidget() is ui.window.search


def test_nobody_listening_reports_false(qtbot: Any) -> None:
    assert not send_to_running("13800000001", f"agentdesk-nobody-{uuid.uuid4().hex[:8]}", 200)
