"""Work lists: the outbound call list (call centre) and today's visits + portfolio (field).

Both are tables over frozen DTOs; Enter opens the customer, Ctrl+N / F4 moves to the next row
and opens it. The account manager edits today's visit plan here (Insert adds the portfolio
customer, Delete removes a visit, Alt+Up / Alt+Down or the mouse reorder) and pre-claims it
before going offline (Ctrl+Shift+K). Every save and claim runs on a worker. Taking a claimed
visit out of the plan gives its claim back (after the save, on a worker); without a connection
the view says the claim is given back at the next sync or runs out at its lease end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from agentdesk.i18n import _
from agentdesk.services import compute
from agentdesk.services.customer import ClaimError
from agentdesk.services.dto import CallListEntry, ClaimReleases, PreclaimSummary, VisitEntry
from agentdesk.ui import texts
from agentdesk.ui.context import UiContext
from agentdesk.ui.models.rows_model import Column, RowsModel
from agentdesk.ui.models.visit_plan_model import VisitPlanModel
from agentdesk.ui.shortcuts import keys_of

__all__ = ["CallListView", "FieldView", "ListTable"]


class ListTable(QTableView):
    """A keyboard-friendly read-only table. ``activated`` (Enter) opens the row."""

    sig_open_customer = Signal(str)

    def __init__(
        self,
        columns: list[Column[Any]],
        parent: QWidget | None = None,
        model: RowsModel[Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.rows_model: RowsModel[Any] = model if model is not None else RowsModel(columns, self)
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


def claim_text(entry: VisitEntry) -> str:
    """What pre-claiming answered for one visit, in the current language."""
    if entry.claim_until is not None:
        return _("Claimed until {time}").format(time=texts.fmt_when(entry.claim_until))
    if entry.refused == "claimed" and entry.refused_since is not None:
        return _("Refused: {who} is working this customer since {time}").format(
            who=entry.refused_by or "?", time=texts.fmt_when(entry.refused_since)
        )
    if entry.refused == "claimed":
        return _("Refused: {who} is working this customer").format(who=entry.refused_by or "?")
    if entry.refused == "policy_blocked":
        reasons = "; ".join(texts.explain(r) for r in entry.refused_reasons)
        return _("Refused by the contact policy: {reasons}").format(reasons=reasons or "-")
    if entry.refused == "quota_exceeded":
        return _("Refused: you hold the most long claims allowed")
    if entry.refused:
        return _("Refused ({code})").format(code=entry.refused)
    return _("Not claimed")


def _claimed_sentence(summary: PreclaimSummary) -> str:
    until = max((e.claim_until for e in summary.plan if e.claim_until), default=None)
    text = _("{held} of {n} visits claimed until {until}; {refused} refused.").format(
        held=summary.held,
        n=summary.held + summary.refused,
        until=texts.fmt_when(until) or "-",
        refused=summary.refused,
    )
    if summary.left_out:
        text += " " + _("{n} visits beyond the first 200 were not claimed.").format(
            n=summary.left_out
        )
    return text


def _plan_columns() -> list[Column[VisitEntry]]:
    return [
        Column(lambda: "#", lambda e: "", 28),
        *_visit_columns()[:2],
        Column(lambda: _("Churn risk"), lambda e: texts.risk_label(e.churn_level), 60),
        Column(lambda: _("Claim"), claim_text, 150, tooltip=claim_text),
    ]


class _PlanColumns(VisitPlanModel):
    """The plan model with the visiting order number in the first column."""

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid() and index.column() == 0:
            return str(index.row() + 1) if index.row() < self.rowCount() else None
        return super().data(index, role)


class FieldView(QTabWidget):
    """Today's visit plan (editable, works offline) and the whole portfolio.

    Signals:
        sig_open_customer: (str) Enter on a row.
        sig_loaded: both lists arrived.
        sig_plan_saved: today's plan was written to the local cache.
        sig_claimed: (PreclaimSummary) "Claim my visits" finished.
        sig_claim_failed: (str) it could not run (offline, service busy); the sentence says why.
        sig_claims_released: (ClaimReleases) claims of removed visits given back or waiting.
        sig_message: (str) a one-line message for the status bar.
    """

    sig_open_customer = Signal(str)
    sig_loaded = Signal()
    sig_plan_saved = Signal()
    sig_claimed = Signal(object)
    sig_claim_failed = Signal(str)
    sig_claims_released = Signal(object)
    sig_message = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        columns = _plan_columns()
        self.plan_model = _PlanColumns(columns, self)
        self.today = ListTable(columns, model=self.plan_model)
        self.today.setDragEnabled(True)
        self.today.setAcceptDrops(True)
        self.today.setDropIndicatorShown(True)
        self.today.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.today.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.portfolio = ListTable(_visit_columns())
        for table in (self.today, self.portfolio):
            table.sig_open_customer.connect(self.sig_open_customer)
        self.plan_model.sig_edited.connect(self._save_plan)
        self._claiming = False
        self._status: Callable[[], str] | None = None
        self._releasing: dict[str, str] = {}  # removed claimed visits: customer id -> name

        self.up_button = QPushButton()
        self.down_button = QPushButton()
        self.remove_button = QPushButton()
        self.claim_button = QPushButton()
        self.claim_button.setObjectName("primary")
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.remove_button.clicked.connect(self.remove_current)
        self.claim_button.clicked.connect(self.claim_visits)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("planStatus")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.up_button, self.down_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.claim_button)
        today_page = QWidget()
        today_layout = QVBoxLayout(today_page)
        today_layout.setContentsMargins(2, 4, 2, 2)
        today_layout.setSpacing(4)
        today_layout.addLayout(buttons)
        today_layout.addWidget(self.status)
        today_layout.addWidget(self.today, 1)

        self.add_button = QPushButton()
        self.add_button.clicked.connect(self.add_current)
        portfolio_page = QWidget()
        portfolio_layout = QVBoxLayout(portfolio_page)
        portfolio_layout.setContentsMargins(2, 4, 2, 2)
        portfolio_layout.setSpacing(4)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        portfolio_layout.addLayout(add_row)
        portfolio_layout.addWidget(self.portfolio, 1)

        self.addTab(today_page, "")
        self.addTab(portfolio_page, "")
        self._shortcuts = [
            *self._bind("plan_add", self.portfolio, self.add_current),
            *self._bind("plan_remove", self.today, self.remove_current),
            *self._bind("plan_up", self, lambda: self.move_current(-1)),
            *self._bind("plan_down", self, lambda: self.move_current(1)),
        ]
        self.retranslate()

    def _bind(self, action: str, widget: QWidget, handler: Any) -> list[QShortcut]:
        made = []
        for keys in keys_of(action):
            shortcut = QShortcut(QKeySequence(keys), widget)
            context = (
                Qt.ShortcutContext.WidgetWithChildrenShortcut
                if widget is self
                else Qt.ShortcutContext.WidgetShortcut
            )
            shortcut.setContext(context)
            shortcut.activated.connect(handler)
            made.append(shortcut)
        return made

    @property
    def table(self) -> ListTable:
        """The table the "next customer" key walks."""
        return self.portfolio if self.currentIndex() == 1 else self.today

    # -- loading -------------------------------------------------------------------------------
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

    def _on_today(self, entries: list[VisitEntry] | tuple[VisitEntry, ...]) -> None:
        current = self.today.currentIndex().row()
        self.plan_model.set_rows(list(entries))
        if entries:
            self.today.selectRow(max(0, min(current, len(entries) - 1)))
        self.retranslate()

    def _on_portfolio(self, entries: list[VisitEntry]) -> None:
        self.portfolio.rows_model.set_rows(entries)
        self.retranslate()

    # -- editing (offline too) -----------------------------------------------------------------
    def add_current(self) -> None:
        """Insert: add the selected portfolio customer at the end of today's plan."""
        entry = self.portfolio.rows_model.row_object(self.portfolio.currentIndex().row())
        if entry is None:
            return
        if not self.plan_model.append(entry):
            self._say(lambda: _("{name} is already in today's plan.").format(name=entry.name))
            return
        self._say(lambda: _("{name} added to today's visits.").format(name=entry.name))
        self.retranslate()

    def remove_current(self) -> None:
        """Delete: take the selected visit out of today's plan."""
        row = self.today.currentIndex().row()
        entry = self.plan_model.remove(row)
        if entry is None:
            return
        if self.plan_model.rowCount():
            self.today.selectRow(min(row, self.plan_model.rowCount() - 1))
        if entry.claim_until is not None:  # given back once the plan is saved
            self._releasing[entry.customer_id] = entry.name
        self._say(lambda: _("{name} removed from today's visits.").format(name=entry.name))
        self.retranslate()

    def move_current(self, step: int) -> None:
        """Alt+Up / Alt+Down: move the selected visit one place earlier or later."""
        if self.currentIndex() != 0:
            return
        row = self.today.currentIndex().row()
        if self.plan_model.move(row, row + step):
            self.today.selectRow(row + step)

    def _save_plan(self) -> None:
        ids = self.plan_model.customer_ids()
        visits = self._ctx.services.visits
        self._ctx.tasks.write(
            lambda: visits.save_plan(ids), self._on_plan_saved, key="visit_plan_save"
        )

    def _on_plan_saved(self, _plan: object) -> None:
        self.sig_plan_saved.emit()
        if self._releasing:
            self.release_removed()

    def release_removed(self) -> None:
        """Give back the claims of visits taken out of the plan (after a save, after a sync)."""
        visits = self._ctx.services.visits
        self._ctx.tasks.read(visits.release_removed, self._on_released)

    def _on_released(self, result: ClaimReleases) -> None:
        names = self._releasing
        given = [names.pop(cid) for cid in result.released if cid in names]
        waiting = [(names[cid], until) for cid, until in result.waiting if cid in names]
        if waiting:
            name, until = waiting[0]
            self._say(
                lambda: _(
                    "No connection: the claim of {name} is given back at the next sync, "
                    "or runs out at {time}."
                ).format(name=name, time=texts.fmt_when(until))
            )
        elif given:
            who = ", ".join(given)
            self._say(lambda: _("The claim of {name} was given back.").format(name=who))
        self.sig_claims_released.emit(result)

    # -- claiming (online only) ----------------------------------------------------------------
    def claim_visits(self) -> None:
        """Ctrl+Shift+K: pre-claim today's plan for up to 12 hours (up to 200 visits)."""
        if self._claiming:
            return
        visits = self._ctx.services.visits
        if not visits.online:
            self._say(
                lambda: _("Offline: claiming visits needs a connection. The plan is kept here.")
            )
            return
        ids = self.plan_model.customer_ids()
        if not ids:
            self._say(lambda: _("Today's plan is empty: add visits from the portfolio first."))
            return
        self._claiming = True
        self.claim_button.setEnabled(False)
        self._say(lambda: _("Claiming {n} visits…").format(n=len(ids)), announce=False)
        self._ctx.tasks.read(
            lambda state: visits.claim_plan(ids, progress=state.set_progress),
            self._on_claimed,
            on_error=self._on_claim_failed,
            on_progress=self._on_claim_progress,
            key="claim_visits",
            with_state=True,
        )

    def _on_claim_progress(self, fraction: float) -> None:
        if self._claiming:
            self.claim_button.setText(_("Claiming… {pct:.0%}").format(pct=fraction))

    def _on_claimed(self, summary: PreclaimSummary) -> None:
        self._claiming = False
        self._on_today(summary.plan)
        self._say(lambda: _claimed_sentence(summary))
        self.sig_claimed.emit(summary)

    def _on_claim_failed(self, exc: BaseException) -> None:
        self._claiming = False
        self.retranslate()
        sentence = exc.sentence if isinstance(exc, ClaimError) else str(exc)
        self._say(lambda: sentence or _("Claiming failed."))
        self.refresh()  # show what was granted before the failure
        self.sig_claim_failed.emit(self.status.text())

    def _say(self, render: Callable[[], str], *, announce: bool = True) -> None:
        """Show a sentence above the plan (re-rendered on a language switch)."""
        self._status = render
        text = render()
        self.status.setText(text)
        self.status.setVisible(True)
        if not announce:
            return
        self.sig_message.emit(text)

    # -- language ------------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Re-render in the current language."""
        self.setTabText(0, _("Today's visits ({n})").format(n=self.plan_model.rowCount()))
        self.setTabText(1, _("Portfolio ({n})").format(n=self.portfolio.rows_model.rowCount()))
        self.up_button.setText(_("Earlier"))
        self.up_button.setToolTip("Alt+Up")
        self.down_button.setText(_("Later"))
        self.down_button.setToolTip("Alt+Down")
        self.remove_button.setText(_("Remove"))
        self.remove_button.setToolTip("Del")
        self.add_button.setText(_("Add to today's visits (Ins)"))
        self.claim_button.setEnabled(not self._claiming)
        if not self._claiming:
            self.claim_button.setText(_("Claim my visits (Ctrl+Shift+K)"))
        self.claim_button.setToolTip(
            _("Claims today's visits for up to 12 hours (at most 200) before you go offline.")
        )
        if self._status is not None:
            self.status.setText(self._status())
        elif not self._ctx.services.visits.online:
            self.status.setText(
                _("Offline: you can edit the plan; claiming visits needs a connection.")
            )
        self.status.setVisible(bool(self.status.text()))
        self.today.rows_model.retranslate()
        self.portfolio.rows_model.retranslate()
