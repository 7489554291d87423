"""The desktop before its first sync is done: the service answers search and the customer view.

What the user notices: typing a name finds the customer and says the service answered; Enter
opens the customer, whose panels say they were read from the service just now; an inbound call
whose number is not in the cache yet, with the service unreachable, says the customer may not
have arrived rather than that there is no such customer.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import Qt

from agentdesk.services import build_services
from agentdesk.sync import ApiClient
from tests.ui.central import PASSWORD, Central
from tests.ui.desktop import desktop_auth, logged_in_desktop, show_desktop


def test_search_and_open_before_the_first_sync(
    qtbot: Any, tmp_path: Path, central: Central
) -> None:
    auth = desktop_auth(tmp_path, "dev-1", api=central.api)
    with logged_in_desktop(qtbot, auth, "agent1", PASSWORD) as desk:
        window = desk.window
        with qtbot.waitSignal(window.search.sig_results, timeout=5000) as found:
            window.search.focus_search("王小红")
        assert [h.customer_id for h in found.args[0].first] == ["C00000002"]
        assert "found by the service" in window.search.summary.text()
        assert "first sync running" in window.search.summary.text()
        assert "from their start" in window.search.summary.toolTip()
        with qtbot.waitSignal(window.customer.sig_opened, timeout=5000) as opened:
            qtbot.keyClick(window.search.box, Qt.Key.Key_Return)
        assert opened.args[0].view.attributes.name == "王小红"
        fresh = window.customer.tabs.holdings.fresh.text()
        assert fresh == "read from the service just now (first sync still running)"


def test_screen_pop_without_the_service_says_the_customer_may_not_have_arrived(
    qtbot: Any, tmp_path: Path, central: Central
) -> None:
    online = desktop_auth(tmp_path, "dev-1", api=central.api).login("agent1", PASSWORD)
    assert online.api is not None
    online.api.close()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    gone = ApiClient("http://127.0.0.1:9", transport=httpx.MockTransport(refuse))
    login = dataclasses.replace(online, api=gone)
    desk = show_desktop(qtbot, build_services(login), login.session, login=login)
    try:
        with qtbot.waitSignal(desk.window.sig_screen_pop_done, timeout=5000) as done:
            desk.window.open_msisdn("13800000002")
        assert done.args == ["none"]
        message = desk.window.statusBar().currentMessage()
        assert "in the cache yet" in message
        assert "first sync is still running" in message
        assert desk.window.search.box.text() == "13800000002"
    finally:
        desk.close()
        gone.close()
