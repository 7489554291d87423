"""The account manager's visit plan: edit it offline from the portfolio, pre-claim it online.

Editing runs against the real local cache (offline session); claiming runs against the real
in-process service, with another agent holding one of the customers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agentdesk.domain import Channel, ResultCode, Role
from agentdesk.policy import default_rules, evaluate
from agentdesk.services.dto import ReasonLine, VisitEntry
from agentdesk.services.queues import VisitPlanService
from agentdesk.store.codec import parse_ts
from agentdesk.sync import ApiClient, Claimed
from agentdesk.ui.models.visit_plan_model import MIME_TYPE, VisitPlanModel
from agentdesk.ui.texts import fmt_time, fmt_when
from agentdesk.ui.views.outcome_form import RESULT_KEYS
from agentdesk.ui.views.work_lists import FieldView, claim_text
from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine
from bench.faultproxy import FaultProxy
from tests.reliability.service import ServiceProcess
from tests.reliability.world import _all_day_rules
from tests.ui.central import PASSWORD, Central
from tests.ui.desktop import desktop_auth, logged_in_desktop
from tests.ui.test_claims import _can_claim
from tests.ui.test_offline_day import _central
from tests.ui.test_responsiveness import BUSY_LIMIT_MS, Heartbeat

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _loaded(qtbot: Any, window: Any) -> FieldView:
    home = window.home
    assert isinstance(home, FieldView)
    with qtbot.waitSignal(home.sig_loaded, timeout=10000):
        window.refresh_home()
    return home


def _saved_ids(services: Any, session: Any) -> list[str]:
    fresh = VisitPlanService(services.db, session)  # reads the cache, not the widgets
    return [e.customer_id for e in fresh.today()]


def test_plan_is_edited_with_the_keyboard_offline_and_kept_in_the_cache(
    qtbot: Any, make_ui: Any
) -> None:
    ui = make_ui(Role.FIELD)
    home = _loaded(qtbot, ui.window)
    plan = home.plan_model
    before = plan.customer_ids()
    assert 0 < len(before) <= 8  # the suggestion of the most urgent customers

    # Insert on the portfolio adds the selected customer at the end of the plan
    home.setCurrentIndex(1)
    newcomer = next(
        r
        for r in range(home.portfolio.rows_model.rowCount())
        if home.portfolio.rows_model.row_object(r).customer_id not in before
    )
    home.portfolio.setFocus()
    home.portfolio.selectRow(newcomer)
    added = home.portfolio.rows_model.row_object(newcomer).customer_id
    with qtbot.waitSignal(home.sig_plan_saved, timeout=5000):
        qtbot.keyClick(home.portfolio, Qt.Key.Key_Insert)
    assert plan.customer_ids() == [*before, added]
    assert home.tabText(0) == f"Today's visits ({len(before) + 1})"
    qtbot.keyClick(home.portfolio, Qt.Key.Key_Insert)  # twice: said, not duplicated
    assert plan.customer_ids().count(added) == 1
    assert "already in today's plan" in home.status.text()

    # Alt+Up moves the new visit to second place; Delete removes the first visit
    home.setCurrentIndex(0)
    home.today.setFocus()
    home.today.selectRow(len(before))
    for _step in range(len(before) - 1):
        qtbot.keyClick(home.today, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert plan.customer_ids()[1] == added
    assert home.today.currentIndex().row() == 1  # the selection follows the visit
    home.today.selectRow(0)
    with qtbot.waitSignal(home.sig_plan_saved, timeout=5000):
        qtbot.keyClick(home.today, Qt.Key.Key_Delete)
    expected = [added, *before[1:]]
    assert plan.customer_ids() == expected
    assert _saved_ids(ui.services, ui.window.ctx.session) == expected

    # offline: claiming says it needs a connection and leaves the plan alone
    qtbot.keyClick(
        ui.window,
        Qt.Key.Key_K,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert "needs a connection" in home.status.text()
    assert plan.customer_ids() == expected
    assert all(claim_text(e) == "Not claimed" for e in plan.rows())

    # the edited plan comes back from the cache on reload
    with qtbot.waitSignal(home.sig_loaded, timeout=10000):
        ui.window.refresh_home()
    assert plan.customer_ids() == expected

    # in Chinese, the buttons, the sentence above the plan and the claim column follow
    ui.window.set_language("zh_CN")
    assert home.claim_button.text() == "认领我的走访（Ctrl+Shift+K）"
    assert home.status.text() == "离线：认领走访需要联网。走访计划已保存在本机。"
    assert plan.index(0, 4).data() == "未认领"
    assert home.tabText(0) == f"今日走访（{len(expected)}）"


def _entry(cid: str) -> VisitEntry:
    return VisitEntry(cid, f"客户{cid}", "high", "SS3", 2, planned=True)


def test_plan_model_reorders_by_drag_and_drop_and_passes_the_model_tester(
    qtbot: Any, qtmodeltester: Any
) -> None:
    from agentdesk.ui.views.work_lists import _plan_columns

    model = VisitPlanModel(_plan_columns())
    model.set_rows([_entry(c) for c in ("A", "B", "C", "D")])
    qtmodeltester.check(model)
    data = model.mimeData([model.index(0, 1)])
    assert data.hasFormat(MIME_TYPE)
    with qtbot.waitSignal(model.sig_edited, timeout=1000):
        # dropped between C and D; returns False so the view does not delete the dragged row
        assert not model.dropMimeData(data, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert model.customer_ids() == ["B", "C", "A", "D"]
    data = model.mimeData([model.index(3, 0)])
    model.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, model.index(0, 0))  # onto B
    assert model.customer_ids() == ["D", "B", "C", "A"]
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.append(_entry("B"))  # already planned
    qtmodeltester.check(model)


def test_a_claim_running_past_midnight_names_its_day(qtbot: Any) -> None:
    """Pre-claimed at 20:00 for 12 hours: "until 08:00" alone would read as this morning, long
    gone; tomorrow is named (a word, not a date: the claim column is narrow), today is not."""
    tomorrow = datetime.now().astimezone() + timedelta(days=1)
    held = VisitEntry("A", "王小明", "low", "SS3", 1, claim_until=tomorrow)
    assert claim_text(held) == f"Claimed until tomorrow {fmt_time(tomorrow)}"
    today = datetime.now().astimezone()
    assert claim_text(VisitEntry("A", "王小明", "low", "SS3", 1, claim_until=today)) == (
        f"Claimed until {fmt_time(today)}"
    )


def test_claim_column_says_why_a_visit_was_refused(qtbot: Any) -> None:
    until = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    held = VisitEntry("A", "王小明", "low", "SS3", 1, claim_until=until)
    assert claim_text(held).startswith("Claimed until ")
    other = VisitEntry("B", "李建国", "low", "SS3", 1, refused="claimed", refused_by="坐席二")
    assert claim_text(other) == "Refused: 坐席二 is working this customer"
    policy = VisitEntry(
        "C",
        "张丽华",
        "low",
        "SS3",
        1,
        refused="policy_blocked",
        refused_reasons=(ReasonLine(code="do_not_contact"),),
    )
    assert claim_text(policy).startswith("Refused by the contact policy: ")
    assert "do_not_contact" not in claim_text(policy)  # worded, not the code


@pytest.fixture
def field_desktop(qtbot: Any, tmp_path: Path, central: Central) -> Any:
    auth = desktop_auth(tmp_path, "dev-am", api=central.api)
    with logged_in_desktop(qtbot, auth, "am1", PASSWORD, first_sync=True) as desk:
        yield desk.window, desk.services


def test_claim_my_visits_holds_the_plan_for_12_hours_and_shows_refusals(
    qtbot: Any, field_desktop: Any, central: Central
) -> None:
    window, _services = field_desktop
    home = _loaded(qtbot, window)
    plan = home.plan_model
    ids = plan.customer_ids()
    assert len(ids) >= 3
    other = central.logged_in()
    taken = ids[1]
    other.acquire_claim(taken, "store")  # another agent serves this customer at a counter
    with qtbot.waitSignal(home.sig_claimed, timeout=30000) as done:
        qtbot.keyClick(
            window,
            Qt.Key.Key_K,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    summary = done.args[0]
    assert (summary.held, summary.refused) == (len(ids) - 1, 1)
    rows = {e.customer_id: e for e in plan.rows()}
    assert rows[taken].refused_since is not None
    since = fmt_when(rows[taken].refused_since)
    assert claim_text(rows[taken]) == f"Refused: 坐席二 is working this customer since {since}"
    now = datetime.now(UTC)
    for cid in ids:
        if cid == taken:
            continue
        assert rows[cid].claim_until is not None
        assert rows[cid].claim_until - now > timedelta(hours=11)  # a 12-hour lease
        assert claim_text(rows[cid]).startswith("Claimed until ")
    assert f"{len(ids) - 1} of {len(ids)} visits claimed" in home.status.text()
    with pytest.raises(Claimed):  # the pre-claim keeps others off while we are offline
        other.acquire_claim(ids[0], "store")

    # the answers are in the cache: a reload (offline or not) still shows them
    with qtbot.waitSignal(home.sig_loaded, timeout=10000):
        window.refresh_home()
    again = {e.customer_id: e for e in plan.rows()}
    assert again[taken].refused == "claimed"
    assert again[ids[0]].claim_until is not None


def test_next_visit_offers_only_times_the_policy_allows_for_a_visit(
    qtbot: Any, make_ui: Any
) -> None:
    ui = make_ui(Role.FIELD)
    home = _loaded(qtbot, ui.window)
    first = home.plan_model.row_object(0)
    with qtbot.waitSignal(ui.window.customer.sig_opened, timeout=5000) as opened:
        home.today.selectRow(0)
        qtbot.keyClick(home.today, Qt.Key.Key_Return)
    screen = opened.args[0]
    assert screen.view.customer_id == first.customer_id
    assert screen.channel is Channel.FIELD_VISIT
    form = ui.window.customer.outcome
    form.select_result(RESULT_KEYS.index(ResultCode.REACHED_CALLBACK))
    offered = [form.appointment.itemData(i) for i in range(1, form.appointment.count())]
    assert offered
    now = datetime.now(UTC)
    rules = default_rules()  # the seeded cache has no pulled rule set
    user = ui.window.ctx.session.user.user_id
    for slot in offered:
        assert slot >= now
        decision = evaluate(
            screen.view.attributes, Channel.FIELD_VISIT, None, (), (), rules, slot, user_id=user
        )
        assert decision.allowed, f"{slot} offered but {decision.outcome.value} for a visit"
        local = slot.astimezone(SHANGHAI)
        assert 9 <= local.hour < 21, f"{local} is inside quiet hours"


def test_plan_edits_and_claiming_keep_sql_and_http_off_the_gui_thread(
    qtbot: Any, field_desktop: Any
) -> None:
    window, _services = field_desktop
    home = _loaded(qtbot, window)
    beat = Heartbeat()
    beat.start()
    home.today.selectRow(0)
    removed = home.plan_model.row_object(0).customer_id
    with qtbot.waitSignal(home.sig_plan_saved, timeout=5000):
        home.remove_current()
    home.setCurrentIndex(1)
    portfolio = home.portfolio.rows_model
    ids = [portfolio.row_object(r).customer_id for r in range(portfolio.rowCount())]
    home.portfolio.selectRow(ids.index(removed))
    with qtbot.waitSignal(home.sig_plan_saved, timeout=5000):
        home.add_current()
    home.setCurrentIndex(0)
    home.today.selectRow(home.plan_model.rowCount() - 1)
    with qtbot.waitSignal(home.sig_plan_saved, timeout=5000):
        home.move_current(-1)
    with qtbot.waitSignal(home.sig_claimed, timeout=30000):
        window.claim_visits()
    qtbot.wait(30)
    beat.stop()
    assert not beat.blocking_calls, beat.verdict()
    assert beat.max_busy_cpu < BUSY_LIMIT_MS, beat.verdict()
    assert all(e.claim_until is not None for e in home.plan_model.rows())


CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def all_day_field_desktop(qtbot: Any, tmp_path: Path, central: Central) -> Any:
    """The account manager's desktop on a service whose rules have no quiet hours.

    Without quiet hours a Ctrl+K claim is granted at any hour, so whether it would shorten a
    pre-claim does not depend on when the test runs.
    """
    engine = make_engine(central.url)
    try:
        with Session(engine) as session, session.begin():
            session.execute(insert(m.RuleSet), [_all_day_rules(datetime.now(UTC))])
    finally:
        engine.dispose()
    auth = desktop_auth(tmp_path, "dev-am", api=central.api)
    with logged_in_desktop(qtbot, auth, "am1", PASSWORD, first_sync=True) as desk:
        yield desk.window, desk.services


def _claim_plan(qtbot: Any, window: Any, home: FieldView) -> Any:
    with qtbot.waitSignal(home.sig_claimed, timeout=30000) as done:
        qtbot.keyClick(window, Qt.Key.Key_K, CTRL_SHIFT)
    return done.args[0]


def _select_visit(home: FieldView, row: int) -> VisitEntry:
    home.setCurrentIndex(0)
    home.today.setFocus()
    home.today.selectRow(row)
    entry = home.plan_model.row_object(row)
    assert entry is not None
    return entry


def _lease_left(other: ApiClient, customer_id: str) -> timedelta:
    """How long the service still keeps ``customer_id`` for its holder (asked by a colleague)."""
    with pytest.raises(Claimed) as refused:
        other.acquire_claim(customer_id, "store")
    return parse_ts(refused.value.holder["lease_until"]) - datetime.now(UTC)


def _held_on_service(db_url: str, customer_id: str) -> bool:
    """Whether the service's claim on ``customer_id`` still runs (its own claim table)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            until = conn.execute(
                select(m.Claim.lease_until).where(m.Claim.customer_id == customer_id)
            ).scalar()
    finally:
        engine.dispose()
    if until is None:
        return False
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return bool(until > datetime.now(UTC))


def _plan_claim(services: Any, customer_id: str) -> tuple[str, int]:
    with services.db.reader() as conn:
        claim_id, fence = conn.execute(
            "SELECT claim_id, fence FROM visit_plan_item WHERE customer_id = ? "
            "AND claim_id IS NOT NULL",
            (customer_id,),
        ).fetchone()
    return str(claim_id), int(fence)


def test_the_outcome_of_a_preclaimed_visit_carries_its_claim_and_releases_it(
    qtbot: Any, all_day_field_desktop: Any, central: Central
) -> None:
    window, services = all_day_field_desktop
    home = _loaded(qtbot, window)
    _claim_plan(qtbot, window, home)
    cid = _select_visit(home, 0).customer_id
    claim_id, fence = _plan_claim(services, cid)
    assert _held_on_service(central.url, cid)
    with qtbot.waitSignal(window.customer.sig_opened, timeout=5000):
        qtbot.keyClick(home.today, Qt.Key.Key_Return)
    panel = window.customer
    panel.select_result(RESULT_KEYS.index(ResultCode.REACHED_NO_OFFER))
    with qtbot.waitSignal(panel.sig_saved, timeout=5000) as saved:
        qtbot.keyClick(window, Qt.Key.Key_Return, CTRL)  # no Ctrl+K: the plan's claim is used
    with services.db.reader() as conn:
        sent_with = conn.execute(
            "SELECT claim_id, fence FROM outbox WHERE id = ?", (saved.args[0].contact_id,)
        ).fetchone()
    assert tuple(sent_with) == (claim_id, fence)  # the service checks this fence
    # released with the outcome at push (a colleague's claim would now meet the contact
    # policy's gap after a visit, so the service's own claim row is what tells)
    qtbot.waitUntil(lambda: not _held_on_service(central.url, cid), timeout=20000)
    qtbot.waitUntil(lambda: window.sync_bar.waiting.text() == "0 waiting", timeout=20000)
    with services.db.reader() as conn:
        states = [r[0] for r in conn.execute("SELECT state FROM outbox WHERE kind = 'contact'")]
    assert "conflict" not in states  # not flagged (a stale fence would be)
    with qtbot.waitSignal(home.sig_loaded, timeout=10000):
        window.refresh_home()
    after = {e.customer_id: e for e in home.plan_model.rows()}
    assert claim_text(after[cid]) == "Not claimed"  # the plan no longer shows the given-back claim


def test_ctrl_k_on_a_preclaimed_customer_keeps_the_long_lease(
    qtbot: Any, all_day_field_desktop: Any, central: Central
) -> None:
    window, services = all_day_field_desktop
    home = _loaded(qtbot, window)
    _claim_plan(qtbot, window, home)
    visit = _select_visit(home, 0)
    cid = visit.customer_id
    claim_id, fence = _plan_claim(services, cid)
    other = central.logged_in()
    assert _lease_left(other, cid) > timedelta(hours=11)
    with qtbot.waitSignal(window.customer.sig_opened, timeout=5000):
        qtbot.keyClick(home.today, Qt.Key.Key_Return)
    panel = window.customer
    with qtbot.waitSignal(panel.sig_message, timeout=5000) as said:
        qtbot.keyClick(window, Qt.Key.Key_K, CTRL)  # claim the customer "again"
    assert said.args[0] == (
        f"Already yours until {fmt_when(visit.claim_until)}: claimed with your visit plan."
    )
    assert _lease_left(other, cid) > timedelta(hours=11)  # not cut to a 15-minute claim
    assert panel.claim is not None
    assert panel.claim.claim_id == claim_id
    # a screen opened before the plan was claimed asks the claim service: it hands back the
    # plan's claim instead of asking the service for a shorter one
    ticket = services.customers.claim(cid, Channel.FIELD_VISIT)
    assert _lease_left(other, cid) > timedelta(hours=11)
    assert (ticket.claim_id, ticket.fence, ticket.preclaimed) == (claim_id, fence, True)


def test_a_ctrl_k_claim_stops_renewing_once_the_plan_claims_the_customer_for_longer(
    qtbot: Any, all_day_field_desktop: Any, central: Central
) -> None:
    window, services = all_day_field_desktop
    services.customers.claim_ttl_s = 600  # the renewal tick is fired by the test below
    home = _loaded(qtbot, window)
    visit = _select_visit(home, 0)
    cid = visit.customer_id
    with qtbot.waitSignal(window.customer.sig_opened, timeout=5000):
        qtbot.keyClick(home.today, Qt.Key.Key_Return)
    panel = window.customer
    qtbot.keyClick(window, Qt.Key.Key_K, CTRL)  # a short claim, renewed while the customer is open
    qtbot.waitUntil(lambda: panel.claim is not None, timeout=5000)
    assert panel.claim is not None
    assert not panel.claim.preclaimed
    _claim_plan(qtbot, window, home)  # the same claim now runs 12 hours
    renewals = panel.renewals
    panel._renew_timer.timeout.emit()  # the next renewal tick (TTL/3 after the claim)
    qtbot.waitUntil(lambda: panel.renewals > renewals, timeout=10000)
    assert panel.claim is not None
    assert panel.claim.preclaimed
    assert not panel._renew_timer.isActive()
    other = central.logged_in()
    assert _lease_left(other, cid) > timedelta(hours=11)  # not cut back to 10 minutes


def test_removing_a_claimed_visit_gives_its_claim_back(
    qtbot: Any, field_desktop: Any, central: Central
) -> None:
    window, _services = field_desktop
    home = _loaded(qtbot, window)
    _claim_plan(qtbot, window, home)
    gone = _select_visit(home, 0)
    kept = home.plan_model.row_object(1)
    other = central.logged_in()
    assert not _can_claim(other, gone.customer_id)
    with qtbot.waitSignal(home.sig_claims_released, timeout=20000) as done:
        qtbot.keyClick(home.today, Qt.Key.Key_Delete)
    assert done.args[0].released == (gone.customer_id,)
    assert home.status.text() == f"The claim of {gone.name} was given back."
    assert _can_claim(other, gone.customer_id)
    assert not _can_claim(other, kept.customer_id)  # the visits left in the plan stay claimed
    window.set_language("zh_CN")
    assert home.status.text() == f"已释放 {gone.name} 的认领。"


def test_a_visit_removed_offline_gives_its_claim_back_at_the_next_sync(
    qtbot: Any, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    _central(db_url)
    service = ServiceProcess(db_url, tmp_path / "service.log").start()
    proxy = FaultProxy("127.0.0.1", service.port, seed=7).start()
    other = ApiClient(service.url)  # a colleague, not behind our cable
    try:
        other.login("agent2", PASSWORD, "dev-2")
        auth = desktop_auth(tmp_path, "dev-am", base_url=proxy.url)
        with logged_in_desktop(qtbot, auth, "am1", PASSWORD, first_sync=True) as desk:
            window = desk.window
            home = _loaded(qtbot, window)
            _claim_plan(qtbot, window, home)
            gone = _select_visit(home, 0)
            assert gone.claim_until is not None
            proxy.down()  # the cable is pulled
            with qtbot.waitSignal(home.sig_claims_released, timeout=30000) as done:
                qtbot.keyClick(home.today, Qt.Key.Key_Delete)
            assert done.args[0].released == ()
            assert [cid for cid, _until in done.args[0].waiting] == [gone.customer_id]
            assert home.status.text() == (
                f"No connection: the claim of {gone.name} is given back at the next sync, "
                f"or runs out at {fmt_when(gone.claim_until)}."
            )
            assert not _can_claim(other, gone.customer_id)  # still held by the service
            proxy.down(False)  # the cable is back
            qtbot.keyClick(window, Qt.Key.Key_F5)
            qtbot.waitUntil(lambda: _can_claim(other, gone.customer_id), timeout=30000)
            qtbot.waitUntil(
                lambda: home.status.text() == f"The claim of {gone.name} was given back.",
                timeout=5000,
            )
    finally:
        other.close()
        proxy.stop()
        service.stop()
