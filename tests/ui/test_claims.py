"""Claims from the desktop against the real in-process service.

Ctrl+K claims the open customer; the claim is renewed every TTL/3 while the customer stays
open, released when the customer is closed (another one opened) or with the outcome; a claim
someone else holds shows in the header as "being worked by … since …".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from agentdesk.domain import ResultCode
from agentdesk.store.codec import parse_ts
from agentdesk.sync import ApiClient, Claimed
from agentdesk.ui.texts import fmt_when
from agentdesk.ui.views.outcome_form import RESULT_KEYS
from tests.ui.central import PASSWORD, Central
from tests.ui.desktop import desktop_auth, logged_in_desktop


@pytest.fixture
def desktop(qtbot: Any, tmp_path: Path, central: Central) -> Any:
    auth = desktop_auth(tmp_path, "dev-1", api=central.api)
    with logged_in_desktop(qtbot, auth, "agent1", PASSWORD, first_sync=True) as desk:
        yield desk.window, desk.services


def _open(qtbot: Any, window: Any, name: str) -> str:
    with qtbot.waitSignal(window.customer.sig_opened, timeout=5000) as opened:
        window.search.focus_search(name)
        qtbot.keyClick(window.search.box, Qt.Key.Key_Return)
    return str(opened.args[0].view.customer_id)


def _can_claim(api: ApiClient, customer_id: str) -> bool:
    try:
        claim = api.acquire_claim(customer_id, "store")
    except Claimed:
        return False
    api.release_claim(claim.claim_id)
    return True


def test_claim_is_renewed_while_open_and_released_when_the_customer_closes(
    qtbot: Any, desktop: Any, central: Central
) -> None:
    window, services = desktop
    services.customers.claim_ttl_s = 3  # renew every second
    panel = window.customer
    first = _open(qtbot, window, "王小明")
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.claim is not None, timeout=5000)
    lease = panel.claim.lease_until
    qtbot.waitUntil(lambda: panel.renewals >= 2, timeout=10000)
    assert panel.claim.lease_until > lease  # the server extended it
    other = central.logged_in()
    assert not _can_claim(other, first)  # still ours after more than one TTL/3
    _open(qtbot, window, "李建国")  # closing the first customer releases its claim
    assert panel.claim is None
    qtbot.waitUntil(lambda: _can_claim(other, first), timeout=5000)


def test_outcome_releases_the_claim_at_push(qtbot: Any, desktop: Any, central: Central) -> None:
    window, _services = desktop
    panel = window.customer
    cid = _open(qtbot, window, "张丽华")
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.claim is not None, timeout=5000)
    other = central.logged_in()
    assert not _can_claim(other, cid)
    panel.select_result(RESULT_KEYS.index(ResultCode.REACHED_NO_OFFER))
    with qtbot.waitSignal(panel.sig_saved, timeout=5000):
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.claim is None
    qtbot.waitUntil(lambda: _can_claim(other, cid), timeout=20000)  # pushed with release_claim
    qtbot.waitUntil(lambda: window.sync_bar.waiting.text() == "0 waiting", timeout=20000)


def test_someone_elses_claim_shows_in_the_header(
    qtbot: Any, desktop: Any, central: Central
) -> None:
    window, _services = desktop
    cid = _open(qtbot, window, "陈志强")
    other = central.logged_in()
    other.acquire_claim(cid, "store")
    with qtbot.waitSignal(window.sync.sig_cycle_done, timeout=20000):
        window.sync.sync_now()
    _open(qtbot, window, "陈志强")
    header = window.customer.header.claim
    assert header.isVisibleTo(window)
    # the service's claim row carries when the claim was taken: "since HH:MM" (local time)
    acquired = window.customer.current.other_claim.acquired_at
    assert acquired is not None
    assert abs(acquired - datetime.now(UTC)) < timedelta(minutes=5)
    since = fmt_when(acquired)
    assert header.text().startswith(f"Being worked by 坐席二 (Store) since {since}, until ")


def test_header_since_is_when_the_claim_was_first_taken_not_the_last_renewal(
    qtbot: Any, desktop: Any, central: Central
) -> None:
    window, _services = desktop
    cid = _open(qtbot, window, "王秀英")
    other = central.logged_in()
    taken = other.acquire_claim(cid, "store")
    renewed = other.renew_claim(taken.claim_id, ttl_s=900)  # a renewal publishes the claim again
    with qtbot.waitSignal(window.sync.sig_cycle_done, timeout=20000):
        window.sync.sync_now()
    _open(qtbot, window, "王秀英")
    claim = window.customer.current.other_claim
    assert claim is not None
    assert claim.acquired_at is not None
    assert claim.acquired_at <= parse_ts(taken.server_now) + timedelta(seconds=1)
    assert claim.lease_until == parse_ts(renewed.lease_until)
    assert f"since {fmt_when(claim.acquired_at)}" in window.customer.header.claim.text()
