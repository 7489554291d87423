"""The customer view's tabs: holdings, usage (charts), contacts, orders, campaigns.

Each tab says how fresh its data is and has a "Report wrong data" button. The usage tab
imports pyqtgraph only when it is first shown (importing it costs about half a second).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from agentdesk.domain import Contact, Holding, MarketingOrder
from agentdesk.i18n import _
from agentdesk.services.dto import CampaignLine, CustomerScreen
from agentdesk.ui import texts
from agentdesk.ui.models.rows_model import Column, RowsModel
from agentdesk.ui.widgets.badge import FreshnessLabel

__all__ = ["CustomerTabs", "TablePanel"]


class TablePanel(QWidget):
    """A table with a freshness line and a "Report wrong data" button.

    Signals:
        sig_report: (str) panel name; the user wants to report wrong data here.
    """

    sig_report = Signal(str)

    def __init__(
        self, panel: str, columns: Sequence[Column[Any]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.panel = panel
        self.model: RowsModel[Any] = RowsModel(columns, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setStretchLastSection(True)
        for i, column in enumerate(columns):
            self.table.setColumnWidth(i, column.width)
        self.fresh = FreshnessLabel()
        self.report = QPushButton()
        self.report.setFlat(True)
        self.report.clicked.connect(lambda: self.sig_report.emit(self.panel))
        bottom = QHBoxLayout()
        bottom.addWidget(self.fresh, 1)
        bottom.addWidget(self.report)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-render in the current language."""
        self.report.setText(_("Report wrong data…"))
        self.model.retranslate()


def _holding_columns() -> list[Column[Holding]]:
    return [
        Column(lambda: _("Product"), lambda h: h.product_name, 170),
        Column(lambda: _("Kind"), lambda h: texts.holding_kind_label(h.kind), 90),
        Column(lambda: _("Monthly fee"), lambda h: texts.fmt_money(h.monthly_fee), 100),
        Column(lambda: _("Since"), lambda h: texts.fmt_date(h.started_on), 90),
        Column(lambda: _("Ends"), lambda h: texts.fmt_date(h.ends_on), 90),
    ]


def _contact_columns() -> list[Column[Contact]]:
    return [
        Column(lambda: _("When"), lambda c: texts.fmt_datetime(c.started_at), 130),
        Column(lambda: _("Channel"), lambda c: texts.channel_label(c.channel), 100),
        Column(lambda: _("Result"), lambda c: texts.result_label(c.result_code), 130),
        Column(lambda: _("Staff"), lambda c: c.staff_id, 90),
        Column(lambda: _("Note"), lambda c: c.note, 160, tooltip=lambda c: c.note),
    ]


def _order_columns() -> list[Column[MarketingOrder]]:
    return [
        Column(lambda: _("Campaign"), lambda o: o.campaign_id, 90),
        Column(lambda: _("Channel"), lambda o: texts.channel_label(o.channel), 100),
        Column(lambda: _("Status"), lambda o: o.status.value, 90),
        Column(lambda: _("Created"), lambda o: texts.fmt_datetime(o.created_at), 130),
        Column(lambda: _("Strategy"), lambda o: o.strategy, 150),
    ]


def _campaign_columns() -> list[Column[CampaignLine]]:
    return [
        Column(lambda: _("Campaign"), lambda c: c.campaign.name, 200),
        Column(lambda: _("Kind"), lambda c: c.campaign.kind, 90),
        Column(lambda: _("Wave"), lambda c: c.wave, 50),
        Column(
            lambda: _("Group"),
            lambda c: _("control") if c.in_control_group else _("target"),
            70,
        ),
        Column(lambda: _("Ends"), lambda c: texts.fmt_datetime(c.campaign.valid_to), 130),
    ]


class CustomerTabs(QTabWidget):
    """All data tabs of one customer.

    Signals:
        sig_report: (str) panel name for "report wrong data".
    """

    sig_report = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._screen: CustomerScreen | None = None
        self.holdings = TablePanel("holdings", _holding_columns())
        self.contacts = TablePanel("contacts", _contact_columns())
        self.orders = TablePanel("orders", _order_columns())
        self.campaigns = TablePanel("campaigns", _campaign_columns())
        self.usage = QWidget()
        self._usage_layout = QVBoxLayout(self.usage)
        self.usage_fresh = FreshnessLabel()
        self._usage_layout.addWidget(self.usage_fresh)
        self.usage_chart: Any = None  # built on first show (lazy pyqtgraph)
        self.addTab(self.holdings, "")
        self.addTab(self.usage, "")
        self.addTab(self.contacts, "")
        self.addTab(self.orders, "")
        self.addTab(self.campaigns, "")
        for panel in (self.holdings, self.contacts, self.orders, self.campaigns):
            panel.sig_report.connect(self.sig_report)
        self.currentChanged.connect(self._on_tab_changed)
        self.retranslate()

    def show_screen(self, screen: CustomerScreen | None) -> None:
        """Fill every tab from ``screen``."""
        self._screen = screen
        self.holdings.model.set_rows(screen.view.holdings if screen else ())
        self.contacts.model.set_rows(screen.contacts if screen else ())
        self.orders.model.set_rows(screen.orders if screen else ())
        self.campaigns.model.set_rows(screen.campaigns if screen else ())
        if self.usage_chart is not None:
            self.usage_chart.show_usage(screen.view.usage if screen else ())
        self._update_freshness()

    def _on_tab_changed(self, index: int) -> None:
        if self.widget(index) is self.usage and self.usage_chart is None:
            from agentdesk.ui.charts.usage import UsageCharts

            self.usage_chart = UsageCharts()
            self._usage_layout.insertWidget(0, self.usage_chart, 1)
            screen = self._screen
            self.usage_chart.show_usage(screen.view.usage if screen else ())

    def _update_freshness(self) -> None:
        screen = self._screen
        synced = screen.freshness.synced_at if screen else None
        if screen is not None and screen.freshness.live:
            line = _("read from the service just now (first sync still running)")
        elif synced:
            line = _("synced {time}").format(time=texts.fmt_when(synced))
        else:
            line = _("not synced yet")
        for panel in (self.holdings, self.contacts, self.orders, self.campaigns):
            panel.fresh.setText(line)
        month = screen.freshness.usage_month if screen else None
        self.usage_fresh.setText(
            _("usage as of {month} (monthly, from last night's load)").format(month=month)
            if month
            else _("no usage data")
        )

    def retranslate(self) -> None:
        """Re-render in the current language."""
        titles = (_("Holdings"), _("Usage"), _("Contacts"), _("Orders"), _("Campaigns"))
        for i, title in enumerate(titles):
            self.setTabText(i, title)
        for panel in (self.holdings, self.contacts, self.orders, self.campaigns):
            panel.retranslate()
        self._update_freshness()
