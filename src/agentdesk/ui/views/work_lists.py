"""Work lists: the outbound call list (call centre) and today's visits + portfolio (field).

Both are tables over frozen DTOs; Enter opens the customer, Ctrl+N / F4 moves to the next row
and opens it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from agentdesk.i18n import _
from agentdesk.services import compute
from agentdesk.services.dto import CallListEntry, VisitEntry
from agentdesk.ui import texts
from agentdesk.ui.context import UiContext
from agentdesk.ui.models.rows_model import Column, RowsModel

__all__ = ["CallListView", "FieldView", "ListTable"]


class ListTable(QTableView):
    """A keyboard-friendly read-only table. ``activated`` (Enter) opens the row."""

    sig_open_customer = Signal(str)

    def __init__(self, columns: list[Column[Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows_model: RowsModel[Any] = RowsModel(columns, self)
        self.setModel(self.rows_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(24)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setStretchLastSection(True)
        for i, column in enumerate(columns):
            self.setColumnWidth(i, column.width)
        self.activated.connect(lambda index: self._open(index.row()))

    def open_next(self) -> bool:
        """Select and open the row after the current one."""
        row = self.currentIndex().row() + 1
        if row >= self.rows_model.rowCount():
            return False
        self.selectRow(row)
        self._open(row)
        return True

    def _open(self, row: int) -> None:
        item = self.rows_model.row_object(row)
        if item is not None:
            self.sig_open_customer.emit(item.customer_id)


def _call_columns() -> list[Column[CallListEntry]]:
    return [
        Column(lambda: _("Score"), lambda e: f"{e.score:.2f}", 55),
        Column(lambda: _("Name"), lambda e: e.name, 90),
        Column(lambda: _("Phone"), lambda e: e.phone, 110),
        Column(lambda: _("Now"), lambda e: texts.verdict_label(e.outcome), 60),
        Column(lambda: _("Campaign"), lambda e: e.campaign_name, 120, tooltip=lambda e: e.note),
    ]


def _visit_columns() -> list[Column[VisitEntry]]:
    return [
        Column(lambda: _("Name"), lambda e: ("✓ " if e.visited else "") + e.name, 110),
        Column(lambda: _("Segment"), lambda e: e.segment, 50),
        Column(lambda: _("Tier"), lambda e: e.value_tier, 40),
        Column(
            lambda: _("Churn risk · contacts (30 d)"),
            lambda e: f"{texts.risk_label(e.churn_level)} · {e.contacts_30d}",
            160,
        ),
    ]


class CallListView(QWidget):
    """Outbound call list ranked by the selection score; only allowed rows come first."""

    sig_open_customer = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.title = QLabel()
        self.title.setObjectName("offerTitle")
        self.table = ListTable(_call_columns())
        self.table.sig_open_customer.connect(self.sig_open_customer)
        from agentdesk.ui.views.counter import CallbacksDueView

        self.callbacks = CallbacksDueView(ctx)
        self.callbacks.sig_open_customer.connect(self.sig_open_customer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.callbacks)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def refresh(self) -> None:
        """Reload the list (and the call-backs due) on workers."""
        self.callbacks.refresh()
        self._ctx.tasks.compute(
            compute.call_list, self._ctx.session, on_done=self._on_entries, key="call_list"
        )

    def _on_entries(self, entries: list[CallListEntry]) -> None:
        current = self.table.currentIndex().row()
        self.table.rows_model.set_rows(entries)
        if entries:
            self.table.selectRow(max(0, min(current, len(entries) - 1)))
        self.retranslate()

    def retranslate(self) -> None:
        """Re-render in the current language."""
        n = self.table.rows_model.rowCount()
        self.title.setText(_("Call list ({n})").format(n=n))
        self.table.rows_model.retranslate()
        self.callbacks.retranslate()


class FieldView(QTabWidget):
    """Today's visit plan and the whole portfolio (works offline).

    Signals:
        sig_open_customer: (str) Enter on a row.
        sig_loaded: both lists arrived.
    """

    sig_open_customer = Signal(str)
    sig_loaded = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.today = ListTable(_visit_columns())
        self.portfolio = ListTable(_visit_columns())
        for table in (self.today, self.portfolio):
            table.sig_open_customer.connect(self.sig_open_customer)
        self.addTab(self.today, "")
        self.addTab(self.portfolio, "")
        self.retranslate()

    @property
    def table(self) -> ListTable:
        """The table the "next customer" key walks."""
        widget = self.currentWidget()
        return widget if isinstance(widget, ListTable) else self.today

    def refresh(self) -> None:
        """Reload both lists on a worker."""
        self._ctx.tasks.compute(
            compute.visit_plan, self._ctx.session, on_done=self._on_visits, key="visits"
        )

    def _on_visits(self, lists: tuple[list[VisitEntry], list[VisitEntry]]) -> None:
        today, portfolio = lists
        self._on_portfolio(portfolio)
        self._on_today(today)
        self.sig_loaded.emit()

    def _on_today(self, entries: list[VisitEntry]) -> None:
        self.today.rows_model.set_rows(entries)
        if entries and not self.today.currentIndex().isValid():
            self.today.selectRow(0)
        self.retranslate()

    def _on_portfolio(self, entries: list[VisitEntry]) -> None:
        self.portfolio.rows_model.set_rows(entries)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-render in the current language."""
        self.setTabText(0, _("Today's visits ({n})").format(n=self.today.rows_model.rowCount()))
        self.setTabText(1, _("Portfolio ({n})").format(n=self.portfolio.rows_model.rowCount()))
        self.today.rows_model.retranslate()
        self.portfolio.rows_model.retranslate()
