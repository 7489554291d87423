"""Login, first sync, outcome, sync again: the status bar follows, the service has the contact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from agentdesk.domain import ResultCode
from agentdesk.services.auth import AuthError, AuthService
from agentdesk.sync import ApiClient
from agentdesk.ui.views.outcome_form import RESULT_KEYS
from tests.ui.central import PASSWORD, Central
from tests.ui.desktop import desktop_auth, logged_in_desktop


def _auth(tmp_path: Path, api: Any) -> AuthService:
    return desktop_auth(tmp_path, "dev-1", api=lambda: api)


def _offline_api() -> ApiClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return ApiClient("http://127.0.0.1:9", transport=httpx.MockTransport(refuse))


@pytest.fixture
def desktop(qtbot: Any, tmp_path: Path, central: Central) -> Any:
    with logged_in_desktop(qtbot, _auth(tmp_path, central.api()), "agent1", PASSWORD) as desk:
        yield desk.window, desk.services, desk.login


def test_first_sync_then_outcome_reaches_the_service(
    qtbot: Any, desktop: Any, central: Central
) -> None:
    window, _services, login = desktop
    bar = window.sync_bar
    assert bar.state.text() == "● Offline"
    with qtbot.waitSignal(window.sync.sig_cycle_done, timeout=20000) as first:
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert first.args[0].ok, first.args[0].error
    qtbot.waitUntil(lambda: bar.state.text() == "● Online", timeout=5000)
    assert bar.last.text() != "last sync never"
    with qtbot.waitSignal(window.customer.sig_opened, timeout=5000):
        window.search.focus_search("王小明")
        qtbot.keyClick(window.search.box, Qt.Key.Key_Return)
    window.customer.select_result(RESULT_KEYS.index(ResultCode.REACHED_NO_OFFER))
    with qtbot.waitSignal(window.customer.sig_saved, timeout=5000) as saved:
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bar.waiting.text() == "1 waiting", timeout=5000)
    # a local write triggers a sync by itself (debounced): the item leaves the outbox
    qtbot.waitUntil(lambda: bar.waiting.text() == "0 waiting", timeout=20000)
    view = central.api(login.session.token).customer(saved.args[0].customer_id)
    assert saved.args[0].contact_id in {c["contact_id"] for c in view["recent_contacts"]}


def test_offline_relogin_works_for_a_known_user_only(tmp_path: Path, central: Central) -> None:
    online = _auth(tmp_path, central.api()).login("agent1", PASSWORD)
    online.db.close()
    offline = _auth(tmp_path, _offline_api()).login("agent1", PASSWORD)
    assert not offline.session.online
    assert offline.session.user.name == "坐席一"
    assert offline.api is None
    offline.db.close()
    with pytest.raises(AuthError, match="wrong user name or password"):
        _auth(tmp_path, _offline_api()).login("agent1", "not-the-password")
    with pytest.raises(AuthError, match="never logged in on this computer"):
        _auth(tmp_path, _offline_api()).login("someone-else", PASSWORD)


def test_wrong_password_online_says_so(tmp_path: Path, central: Central) -> None:
    with pytest.raises(AuthError, match="Wrong user name or password"):
        _auth(tmp_path, central.api()).login("agent1", "nope")


def test_damaged_cache_is_moved_aside_and_said_once(tmp_path: Path, central: Central) -> None:
    path = tmp_path / "users" / "agent1" / "cache.db"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    login = _auth(tmp_path, central.api()).login("agent1", PASSWORD)
    try:
        sentence = login.recovery_sentence
        assert sentence is not None
        assert "damaged" in sentence
        assert path.exists()  # a fresh cache took its place
    finally:
        login.db.close()
