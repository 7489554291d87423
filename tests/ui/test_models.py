"""Every item model passes Qt's model tester; the search model is windowed."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from PySide6.QtCore import Qt

from agentdesk.domain import Role
from agentdesk.store import DatabaseLockedError
from agentdesk.ui.models.search_model import WINDOW


def test_search_model_passes_modeltester_and_loads_rows_by_window(
    qtbot: Any, qtmodeltester: Any, make_ui: Any
) -> None:
    ui = make_ui()
    panel = ui.window.search
    model = panel.model
    first_screen: list[tuple[int, str]] = []

    def on_first_screen(_page: object) -> None:  # before the count can have arrived
        first_screen.append((model.rowCount(), panel.summary.text()))
        qtmodeltester.check(model)

    panel.sig_results.connect(on_first_screen)
    with (
        qtbot.waitSignal(panel.sig_results, timeout=5000) as done,
        qtbot.waitSignal(model.rowsInserted, timeout=5000) as grown,
    ):
        panel.focus_search("138")
    page = done.args[0]
    # the first screen comes before the count: just the first window, "50+"
    assert (page.total, page.counted, page.total_label) == (WINDOW, False, f"{WINDOW}+")
    assert first_screen[0][0] == WINDOW
    assert first_screen[0][1].startswith(f"{WINDOW}+ found")
    assert grown.args[1:] == [WINDOW, 117]  # the count arrived: the list grows to all 118
    assert model.rowCount() == 118  # two customers share the family number 139…
    assert panel.summary.text().startswith("118 found")
    assert model.cached_rows() == WINDOW  # only the first window is loaded
    qtmodeltester.check(model)
    last = model.index(117, 0)
    assert model.data(last) == "…"  # placeholder while the window loads on a worker
    qtbot.waitUntil(lambda: model.data(last) != "…", timeout=5000)
    # just the window around the last row came: the rows between the two windows stay unread
    assert model.cached_rows() == WINDOW + 118 % WINDOW
    qtmodeltester.check(model)


def test_a_result_that_fits_the_first_window_is_counted_at_once(
    qtbot: Any, qtmodeltester: Any, make_ui: Any
) -> None:
    ui = make_ui()
    panel = ui.window.search
    with qtbot.waitSignal(panel.sig_results, timeout=5000) as done:
        panel.run_query("1380000001")
    page = done.args[0]
    assert (page.total, page.counted, page.total_label) == (10, True, "10")
    assert panel.model.rowCount() == 10
    assert panel.summary.text().startswith("10 found")
    qtmodeltester.check(panel.model)


def test_a_count_that_arrives_after_the_next_query_is_not_applied(
    qtbot: Any, qtmodeltester: Any, make_ui: Any
) -> None:
    ui = make_ui()
    panel = ui.window.search
    model = panel.model
    with qtbot.waitSignal(panel.sig_results, timeout=5000):
        panel.run_query("138")
    old_generation = model.generation
    with qtbot.waitSignal(panel.sig_results, timeout=5000):
        panel.run_query("王小")
    shown = model.rowCount()
    model.set_total(old_generation, 118)  # the previous query's count, delivered late
    assert model.rowCount() == shown
    model.set_total(model.generation, shown + 5)  # grows, then shrinks back: rows go away
    assert model.rowCount() == shown + 5
    model.set_total(model.generation, shown)
    assert model.rowCount() == shown
    qtmodeltester.check(model)


def test_empty_search_model_passes_modeltester(qtmodeltester: Any, make_ui: Any) -> None:
    ui = make_ui()
    ui.window.search.run_query("")
    qtmodeltester.check(ui.window.search.model)


def test_customer_tab_models_pass_modeltester(qtbot: Any, qtmodeltester: Any, make_ui: Any) -> None:
    ui = make_ui()
    with qtbot.waitSignal(ui.window.customer.sig_opened, timeout=5000):
        ui.window.open_customer("C00000007")
    tabs = ui.window.customer.tabs
    assert tabs.holdings.model.rowCount() == 1
    for panel in (tabs.holdings, tabs.contacts, tabs.orders, tabs.campaigns):
        qtmodeltester.check(panel.model)
    assert tabs.campaigns.model.data(tabs.campaigns.model.index(0, 0)) == "5G 升级季"


def test_call_list_model_passes_modeltester(qtbot: Any, qtmodeltester: Any, make_ui: Any) -> None:
    ui = make_ui(Role.CALL_CENTRE)
    model = ui.window.home.table.rows_model
    with qtbot.waitSignal(model.modelReset, timeout=5000):
        ui.window.refresh_home()
    assert model.rowCount() > 50
    qtmodeltester.check(model)
    scores = [model.row_object(i).score for i in range(model.rowCount())]
    allowed = [s for i, s in enumerate(scores) if model.row_object(i).outcome == "allowed"]
    assert allowed == sorted(allowed, reverse=True)  # ranked by the selection score
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Score"


def test_field_and_supervisor_models_pass_modeltester(
    qtbot: Any, qtmodeltester: Any, make_ui: Any
) -> None:
    field = make_ui(Role.FIELD)
    with qtbot.waitSignal(field.window.home.portfolio.rows_model.modelReset, timeout=5000):
        field.window.refresh_home()
    qtmodeltester.check(field.window.home.portfolio.rows_model)
    qtbot.waitUntil(lambda: field.window.home.today.rows_model.rowCount() > 0, timeout=5000)
    qtmodeltester.check(field.window.home.today.rows_model)
    sup = make_ui(Role.SUPERVISOR)
    with qtbot.waitSignal(sup.window.home.conflicts.rows_model.modelReset, timeout=10000):
        sup.window.refresh_home()
    qtmodeltester.check(sup.window.home.conflicts.rows_model)
    assert sup.window.home.charts is not None  # pyqtgraph loaded on first figures
    assert "1 campaigns" in sup.window.home.summary.text()


def test_a_count_that_fails_leaves_the_provisional_total_and_shows_no_error(
    qtbot: Any, make_ui: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ui = make_ui()
    panel = ui.window.search

    def busy(*_args: object) -> object:
        raise DatabaseLockedError("The local cache is busy; try again in a moment.")

    monkeypatch.setattr(ui.window.ctx.services.search, "count", busy)
    with caplog.at_level(logging.WARNING), qtbot.waitSignal(panel.sig_results, timeout=5000):
        panel.focus_search("138")
    qtbot.waitUntil(lambda: "search count failed" in caplog.text, timeout=5000)
    assert panel.summary.text().startswith(f"{WINDOW}+ found")  # the provisional total stays
    assert panel.model.rowCount() == WINDOW
    assert ui.window.statusBar().currentMessage() == ""  # no error for background work
