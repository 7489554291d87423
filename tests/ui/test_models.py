"""Every item model passes Qt's model tester; the search model is windowed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from agentdesk.domain import Role
from agentdesk.ui.models.search_model import WINDOW


def test_search_model_passes_modeltester_and_loads_rows_by_window(
    qtbot: Any, qtmodeltester: Any, make_ui: Any
) -> None:
    ui = make_ui()
    panel = ui.window.search
    with qtbot.waitSignal(panel.sig_results, timeout=5000) as done:
        panel.focus_search("138")
    page = done.args[0]
    model = panel.model
    assert page.total == 118  # two customers share the family number 139…
    assert model.rowCount() == 118
    assert model.cached_rows() == WINDOW  # only the first window is loaded
    qtmodeltester.check(model)
    last = model.index(117, 0)
    assert model.data(last) == "…"  # placeholder while the window loads on a worker
    qtbot.waitUntil(lambda: model.cached_rows() == 118, timeout=5000)
    assert model.data(last) != "…"
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
