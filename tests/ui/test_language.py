"""Switching language re-renders visible strings, Qt's own strings and number formats."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QLocale

from agentdesk.domain import Role


def test_switch_to_chinese_changes_visible_strings_and_back(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui(Role.CALL_CENTRE, language="en")
    window = ui.window
    assert window.work.tabText(1) == "Search"
    assert window.customer.outcome.save_button.text() == "Save (Ctrl+Enter)"
    with qtbot.waitSignal(window.sig_language_changed, timeout=2000):
        window.set_language("zh_CN")
    assert window.work.tabText(0) == "外呼清单"
    assert window.work.tabText(1) == "搜索"
    assert window.customer.outcome.save_button.text() == "保存 (Ctrl+Enter)"
    assert window.sync_bar.sync_button.text() == "立即同步"
    assert window.search.model.headerData(0, _horizontal()) == "姓名"
    # Qt's own strings come from qtbase_zh_CN.qm through a QTranslator
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    assert QLocale().language() == QLocale.Language.Chinese
    window.set_language("en")
    assert window.work.tabText(1) == "Search"
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"


def test_open_customer_panels_follow_the_language(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui(Role.CALL_CENTRE, language="en")
    with qtbot.waitSignal(ui.window.customer.sig_opened, timeout=5000):
        ui.window.open_customer("C00000011")
    tabs = ui.window.customer.tabs
    assert tabs.tabText(0) == "Holdings"
    assert tabs.holdings.fresh.text().startswith("synced ")
    ui.window.set_language("zh_CN")
    assert tabs.tabText(0) == "拥有产品"
    assert tabs.holdings.fresh.text().startswith("同步于 ")
    assert ui.window.customer.offers.heading.text() == "推荐产品"


def _horizontal() -> Any:
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal
