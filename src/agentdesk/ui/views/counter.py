"""Store counter home (today's walk-ins) and the call-backs due today (top of the call list)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from agentdesk.i18n import _
from agentdesk.services.counter import CallbackDue, WalkIn
from agentdesk.ui import texts
from agentdesk.ui.context import UiContext
from agentdesk.ui.models.rows_model import Column
from agentdesk.ui.views.work_lists import ListTable

__all__ = ["CallbacksDueView", "StoreCounterView"]


def _walk_in_columns() -> list[Column[WalkIn]]:
    return [
        Column(lambda: _("Time"), lambda w: texts.fmt_time(w.served_at), 60),
        Column(lambda: _("Name"), lambda w: w.name, 110),
        Column(lambda: _("Customer"), lambda w: w.customer_id, 100),
        Column(lambda: _("Result"), lambda w: texts.result_label(w.result_code), 160),
    ]


def _callback_columns() -> list[Column[CallbackDue]]:
    return [
        Column(lambda: _("Due"), lambda c: texts.fmt_when(c.due_at), 60),
        Column(lambda: _("Name"), lambda c: c.name, 110),
        Column(lambda: _("Note"), lambda c: c.note, 200, tooltip=lambda c: c.note),
    ]


class StoreCounterView(QWidget):
    """A store clerk's home: the customers served at this counter today (search is beside it).

    Signals:
        sig_open_customer: (str) Enter on a row.
    """

    sig_open_customer = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.title = QLabel()
        self.title.setObjectName("offerTitle")
        self.table = ListTable(_walk_in_columns())
        self.table.sig_open_customer.connect(self.sig_open_customer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def refresh(self) -> None:
        """Reload today's walk-ins on a worker."""
        counter = self._ctx.services.counter
        self._ctx.tasks.read(counter.walk_ins, self._on_walk_ins, key="walk_ins")

    def _on_walk_ins(self, rows: list[WalkIn]) -> None:
        self.table.rows_model.set_rows(rows)
        if rows:
            self.table.selectRow(0)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-render in the current language."""
        n = self.table.rows_model.rowCount()
        self.title.setText(_("Served at this counter today ({n})").format(n=n))
        self.table.rows_model.retranslate()


class CallbacksDueView(QWidget):
    """The call-backs this user promised for today, earliest first (hidden when none).

    Signals:
        sig_open_customer: (str) Enter on a row.
    """

    sig_open_customer = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.title = QLabel()
        self.table = ListTable(_callback_columns())
        self.table.setMaximumHeight(130)
        self.table.sig_open_customer.connect(self.sig_open_customer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        self.hide()
        self.retranslate()

    def refresh(self) -> None:
        """Reload on a worker."""
        counter = self._ctx.services.counter
        self._ctx.tasks.read(counter.callbacks_due, self._on_due, key="callbacks_due")

    def _on_due(self, rows: list[CallbackDue]) -> None:
        self.table.rows_model.set_rows(rows)
        self.setVisible(bool(rows))
        self.retranslate()

    def retranslate(self) -> None:
        """Re-render in the current language."""
        n = self.table.rows_model.rowCount()
        self.title.setText(_("Call-backs due today ({n})").format(n=n))
        self.table.rows_model.retranslate()
