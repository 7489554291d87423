"""The agent's day of the desktop issue, end to end, on a real service over real sockets.

Find a customer by two Chinese characters, pitch and log an outcome with the keyboard; the cable
is pulled (a fault proxy between the desktop and ``agentdesk-sync serve`` goes down), a store
clerk pitches one of our customers meanwhile, we log two more outcomes offline, the service is
restarted, the cable comes back: both outcomes reach the service exactly once and the clash with
the store shows up under "Needs attention" with who, on which channel.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from agentdesk.domain import Channel, Contact, OfferReaction, Reaction, ResultCode
from agentdesk.protocol import PushItem
from agentdesk.store.outbox import contact_payload
from agentdesk.store.outbox_sync import counts
from agentdesk.sync import ApiClient
from agentdesk.ui.mainwindow import MainWindow
from agentdesk.ui.views.outcome_form import RESULT_KEYS
from agentdesk_sync.auth import create_user
from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine
from bench.faultproxy import FaultProxy
from tests.reliability.service import ServiceProcess
from tests.reliability.world import _all_day_rules
from tests.ui.central import PASSWORD, _customers
from tests.ui.desktop import desktop_auth, logged_in_desktop
from tests.ui.test_customer_flow import type_chinese

CLERK_PASSWORD = "pw-clerk-1"


@dataclass
class Day:
    """The running pieces of the day."""

    window: MainWindow
    services: Any
    service: ServiceProcess
    proxy: FaultProxy
    db_url: str


def _central(db_url: str) -> None:
    from agentdesk_sync.db.engine import migrate

    migrate(db_url)
    engine = make_engine(db_url)
    try:
        _customers(engine)  # 王小明, 王小红, 李建国, … with a live campaign and its offer
        with Session(engine) as session, session.begin():
            create_user(session, "clerk1", CLERK_PASSWORD, "store", regions=["440100"])
            session.execute(insert(m.RuleSet), [_all_day_rules(datetime.now(UTC))])
    finally:
        engine.dispose()


@pytest.fixture
def day(qtbot: Any, tmp_path: Path) -> Iterator[Day]:
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    _central(db_url)
    service = ServiceProcess(db_url, tmp_path / "service.log").start()
    proxy = FaultProxy("127.0.0.1", service.port, seed=7).start()
    try:
        auth = desktop_auth(tmp_path, "desk-1", base_url=proxy.url)
        with logged_in_desktop(qtbot, auth, "agent1", PASSWORD) as desk:
            yield Day(desk.window, desk.services, service, proxy, db_url)
    finally:
        proxy.stop()
        service.stop()


def _sync_now(qtbot: Any, window: MainWindow) -> Any:
    with qtbot.waitSignal(window.sync.sig_cycle_done, timeout=30000) as done:
        qtbot.keyClick(window, Qt.Key.Key_F5)
    return done.args[0]


def _names(model: Any) -> list[str]:
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def _open(qtbot: Any, window: MainWindow, chars: str, name: str) -> Any:
    """Ctrl+F, two characters from the input method, Down to the row, Enter."""
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    search = window.search
    type_chinese(search.box, chars)
    model = search.table.model()
    qtbot.waitUntil(lambda: name in _names(model), timeout=5000)
    qtbot.keyClick(search.box, Qt.Key.Key_Down)  # into the list, first row selected
    for _ in range(_names(model).index(name)):
        qtbot.keyClick(search.table, Qt.Key.Key_Down)
    with qtbot.waitSignal(window.customer.sig_opened, timeout=5000) as opened:
        qtbot.keyClick(search.table, Qt.Key.Key_Return)
    screen = opened.args[0]
    assert screen.view.attributes.name == name
    return screen


def _log(qtbot: Any, window: MainWindow, result: ResultCode, *, pitch: bool) -> Any:
    if pitch:
        qtbot.keyClick(window, Qt.Key.Key_F7)  # the customer declines the offer on screen
    digit = RESULT_KEYS.index(result) + 1
    qtbot.keyClick(window, Qt.Key.Key_0 + digit % 10, Qt.KeyboardModifier.AltModifier)
    with qtbot.waitSignal(window.customer.sig_saved, timeout=5000) as saved:
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "Saved at" in window.customer.outcome.status.text()
    return saved.args[0]


def _store_pitch(service_url: str, customer_id: str) -> None:
    """The store clerk pitches the campaign's offer at the counter (another channel, online)."""
    api = ApiClient(service_url)
    try:
        api.login("clerk1", CLERK_PASSWORD, "store-pc-1")
        now = datetime.now(UTC)
        cid = str(uuid.uuid4())
        contact = Contact(
            contact_id=cid,
            customer_id=customer_id,
            channel=Channel.STORE,
            started_at=now - timedelta(minutes=5),
            ended_at=now - timedelta(minutes=1),
            result_code=ResultCode.REACHED_DECLINED,
            staff_id="clerk1",
            campaign_id="K0001",
            reactions=(OfferReaction(offer_id="O0001", reaction=Reaction.DECLINE),),
        )
        item = PushItem(id=cid, seq=1, kind="contact", schema=1, payload=contact_payload(contact))
        answer = api.push("store-pc-1", [item])
        assert answer.results[0].status == "applied"
    finally:
        api.close()


def _waiting(day: Day) -> int:
    with day.services.db.reader() as conn:
        return counts(conn).waiting


def _ledger_count(db_url: str, contact_id: str) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            stmt = select(func.count()).where(m.Contact.contact_id == contact_id)
            return int(conn.execute(stmt).scalar_one())
    finally:
        engine.dispose()


def test_offline_outcomes_sync_once_and_the_store_clash_needs_attention(
    qtbot: Any, day: Day
) -> None:
    window, bar = day.window, day.window.sync_bar
    assert _sync_now(qtbot, window).ok  # first sync
    qtbot.waitUntil(lambda: bar.state.text() == "● Online", timeout=5000)

    # online: find 王小明 by two characters, pitch, log, saved and delivered
    screen = _open(qtbot, window, "王小", "王小明")
    assert screen.offers, "the live campaign's offer is on screen"
    first = _log(qtbot, window, ResultCode.REACHED_DECLINED, pitch=True)
    qtbot.waitUntil(lambda: _waiting(day) == 0, timeout=30000)  # the save syncs by itself

    # the cable is pulled; meanwhile the store pitches 王小红 at the counter
    day.proxy.down()
    _store_pitch(day.service.url, "C00000002")
    red = _open(qtbot, window, "王小", "王小红")
    assert red.view.customer_id == "C00000002"
    second = _log(qtbot, window, ResultCode.REACHED_DECLINED, pitch=True)
    _open(qtbot, window, "李建", "李建国")
    third = _log(qtbot, window, ResultCode.NOT_REACHED_NO_ANSWER, pitch=False)
    assert not _sync_now(qtbot, window).ok
    assert bar.state.text() == "● Offline"
    assert bar.waiting.text() == "2 waiting"

    # the service restarts while we are away; then the cable comes back
    day.service.stop()
    day.service.start()
    day.proxy.down(False)
    assert _sync_now(qtbot, window).ok
    assert _waiting(day) == 0
    qtbot.waitUntil(lambda: bar.waiting.text() == "0 waiting", timeout=5000)
    qtbot.waitUntil(lambda: bar.attention.text() == "Needs attention (1)", timeout=5000)
    for saved in (first, second, third):
        assert _ledger_count(day.db_url, saved.contact_id) == 1

    bar.attention.click()
    qtbot.waitUntil(lambda: getattr(window, "attention_dialog", None) is not None, timeout=5000)
    dialog = window.attention_dialog
    items = dialog.table.rows_model.rows()
    assert [i.customer_id for i in items] == ["C00000002"]
    assert items[0].item_id == second.contact_id
    row = [
        dialog.table.model().index(0, c).data() for c in range(dialog.table.model().columnCount())
    ]
    detail = " ".join(str(cell) for cell in row)
    assert "clerk1" in detail
    assert "Store" in detail or "store" in detail
