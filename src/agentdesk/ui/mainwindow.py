"""The main window: the role decides the home screen; the customer view is always on the right.

==========  =========================================================
role        left-hand work area (first tab is home)
==========  =========================================================
call_centre outbound call list, search (inbound screen-pop opens here)
store       counter search
field       today's visits / portfolio, search
supervisor  campaign and conflict charts, search
==========  =========================================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QDialog, QMainWindow, QSplitter, QTabWidget, QWidget

from agentdesk.domain import Channel, Reaction, Role
from agentdesk.i18n import _
from agentdesk.services.dto import AttentionItem, OutcomeSaved
from agentdesk.services.search import PopHits
from agentdesk.sync.report import SyncReport
from agentdesk.ui.context import UiContext
from agentdesk.ui.language import LanguageSwitcher
from agentdesk.ui.shortcuts import bind_shortcuts
from agentdesk.ui.sync_controller import SyncController
from agentdesk.ui.views.attention import AttentionDialog
from agentdesk.ui.views.counter import StoreCounterView
from agentdesk.ui.views.customer_panel import CustomerPanel
from agentdesk.ui.views.dialogs import (
    FeedbackDialog,
    PickCustomerDialog,
    SettingsDialog,
    ShortcutSheet,
)
from agentdesk.ui.views.search_panel import SearchPanel
from agentdesk.ui.views.supervisor import SupervisorView
from agentdesk.ui.views.sync_bar import SyncBar
from agentdesk.ui.views.work_lists import CallListView, FieldView

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    """Top-level window.

    Signals:
        sig_language_changed: (str) after a language switch.
        sig_screen_pop_done: (str) ``opened``, ``picked`` or ``none`` after a screen-pop.
    """

    sig_language_changed = Signal(str)
    sig_screen_pop_done = Signal(str)

    def __init__(
        self,
        ctx: UiContext,
        sync: SyncController,
        language: LanguageSwitcher,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sync = sync
        self.language = language
        self.customer = CustomerPanel(ctx)
        self.search = SearchPanel(ctx)
        self.work = QTabWidget()
        self.work.setMinimumWidth(380)
        self.home: QWidget | None = self._build_home()
        if self.home is not None:
            self.work.addTab(self.home, "")
        self.work.addTab(self.search, "")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.work)
        split.addWidget(self.customer)
        split.setStretchFactor(1, 1)
        split.setSizes([430 if ctx.session.role != Role.SUPERVISOR else 700, 930])
        split.setChildrenCollapsible(False)
        self.setCentralWidget(split)
        self.sync_bar = SyncBar()
        self.statusBar().addPermanentWidget(self.sync_bar)
        self._wire()
        self._shortcuts = bind_shortcuts(self, self._handlers())
        self.retranslate()
        self.resize(1366, 740)

    # -- construction --------------------------------------------------------------------------
    def _build_home(self) -> QWidget | None:
        role = self.ctx.session.role
        if role == Role.CALL_CENTRE:
            view: QWidget = CallListView(self.ctx)
        elif role == Role.FIELD:
            view = FieldView(self.ctx)
        elif role in (Role.SUPERVISOR, Role.ADMIN):
            view = SupervisorView(self.ctx)
        elif role == Role.STORE:
            view = StoreCounterView(self.ctx)
        else:
            return None
        if isinstance(view, FieldView):
            view.sig_message.connect(self.show_message)
        if hasattr(view, "sig_open_customer"):
            view.sig_open_customer.connect(self._on_home_open)  # type: ignore[attr-defined]
        return view

    def _on_home_open(self, customer_id: str) -> None:
        """A work-list customer is contacted on the proactive channel (outbound call, visit)."""
        channels = self.ctx.session.user.effective_channels
        proactive = [c for c in channels if not c.customer_initiated]
        self.open_customer(customer_id, proactive[0] if proactive else None)

    def _wire(self) -> None:
        self.search.sig_open_customer.connect(self.open_customer)
        self.customer.sig_saved.connect(self._on_customer_saved)
        self.customer.sig_report.connect(self._on_customer_report)
        self.customer.sig_message.connect(self.show_message)
        self.sync.sig_status.connect(self.sync_bar.show_snapshot)
        self.sync.sig_cycle_done.connect(self._on_sync_cycle_done)
        self.sync_bar.sig_sync_clicked.connect(self.sync.sync_now)
        self.sync_bar.sig_attention_clicked.connect(self.show_attention)
        self.ctx.tasks.sig_error.connect(self.show_message)

    def _handlers(self) -> dict[str, Callable[[], object]]:
        handlers: dict[str, Callable[[], object]] = {
            "search": self.focus_search,
            "next_customer": self.next_customer,
            "accept": lambda: self.customer.react(Reaction.ACCEPT),
            "decline": lambda: self.customer.react(Reaction.DECLINE),
            "later": lambda: self.customer.react(Reaction.LATER),
            "offer_up": lambda: self.customer.offers.move_current(-1),
            "offer_down": lambda: self.customer.offers.move_current(1),
            "note": self.customer.outcome.note.setFocus,
            "save": self.customer.save,
            "claim": self.customer.toggle_claim,
            "report": lambda: self._on_customer_report(self._current_id() or "", "header"),
            "sync": self.sync.sync_now,
            "attention": self.show_attention,
            "work_list": lambda: self.work.setCurrentIndex(0),
            "claim_visits": self.claim_visits,
            "settings": self.show_settings,
            "help": self.show_help,
        }
        for i in range(10):
            handlers[f"result_{i}"] = functools.partial(self.customer.select_result, i)
        return handlers

    # -- actions -------------------------------------------------------------------------------
    def refresh_home(self) -> None:
        """Reload the role's work list."""
        if self.home is not None and hasattr(self.home, "refresh"):
            self.home.refresh()  # type: ignore[attr-defined]

    def open_customer(self, customer_id: str, channel: Channel | None = None) -> None:
        """Open a customer in the customer view (the user's default channel if None)."""
        self.customer.open_customer(customer_id, channel)

    def focus_search(self, text: str | None = None) -> None:
        """Ctrl+F / F3."""
        self.work.setCurrentWidget(self.search)
        self.search.focus_search(text)

    def next_customer(self) -> None:
        """Ctrl+N / F4: open the next customer of the work list."""
        table = getattr(self.home, "table", None)
        if table is not None and hasattr(table, "open_next"):
            self.work.setCurrentIndex(0)
            if not table.open_next():
                self.show_message(_("End of the list."))

    def claim_visits(self) -> None:
        """Ctrl+Shift+K: pre-claim today's visits (account managers only)."""
        home = self.home
        if isinstance(home, FieldView):
            self.work.setCurrentIndex(0)
            home.setCurrentIndex(0)
            home.claim_visits()
        else:
            self.show_message(_("Only account managers pre-claim visits."))

    def open_msisdn(self, msisdn: str) -> None:
        """Screen-pop: 1 match opens, several ask, none pre-fills the search."""
        search = self.ctx.services.search
        self.ctx.tasks.read(
            lambda: search.screen_pop(msisdn),
            lambda found: self._on_pop_hits(msisdn, found),
            key="screen_pop",
        )

    def _on_pop_hits(self, msisdn: str, found: PopHits) -> None:
        hits = found.hits
        self.raise_()
        self.activateWindow()
        if len(hits) == 1:
            self.open_customer(hits[0].customer_id)
            self.sig_screen_pop_done.emit("opened")
        elif hits:
            dialog = PickCustomerDialog(msisdn, hits, self)
            self.pick_dialog = dialog
            dialog.finished.connect(lambda code: self._on_pick_finished(dialog, code))
            dialog.open()
        else:
            self.focus_search(msisdn)
            self.show_message(
                _(
                    "No customer with {msisdn} in the cache yet: the first sync is still "
                    "running and the service cannot be reached; search pre-filled."
                ).format(msisdn=msisdn)
                if found.unsure
                else _("No customer with {msisdn}: search pre-filled.").format(msisdn=msisdn)
            )
            self.sig_screen_pop_done.emit("none")

    def _on_pick_finished(self, dialog: PickCustomerDialog, code: int) -> None:
        chosen = dialog.chosen_id() if code == QDialog.DialogCode.Accepted else None
        if chosen:
            self.open_customer(chosen)
        self.sig_screen_pop_done.emit("picked" if chosen else "cancelled")

    def show_attention(self) -> None:
        """The "Needs attention" list."""
        self.ctx.tasks.read(self.ctx.services.sync.attention, self._on_attention_items)

    def _on_attention_items(self, items: list[AttentionItem]) -> None:
        dialog = AttentionDialog(items, self)
        self.attention_dialog = dialog
        dialog.sig_open_customer.connect(self.open_customer)
        dialog.sig_dismiss.connect(self._on_attention_dismiss)
        dialog.open()

    def _on_attention_dismiss(self, item_id: str) -> None:
        service = self.ctx.services.sync
        self.ctx.tasks.write(lambda: service.dismiss(item_id), lambda _r: None)

    def show_settings(self) -> None:
        """Ctrl+, : language."""
        dialog = SettingsDialog(self.language.language, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_language(dialog.chosen_language())

    def set_language(self, language: str) -> None:
        """Switch language now and re-render everything."""
        installed = self.language.install(language)
        self.ctx.services.settings_changed(language=installed)
        self.retranslate()
        self.sig_language_changed.emit(installed)

    def show_help(self) -> None:
        """F1."""
        sheet = ShortcutSheet(self)
        self.help_sheet = sheet
        sheet.open()

    def show_message(self, text: str) -> None:
        """A one-line message in the status bar."""
        self.statusBar().showMessage(text, 8000)

    # -- slots ---------------------------------------------------------------------------------
    def _on_customer_saved(self, saved: OutcomeSaved) -> None:
        self.show_message(
            _("Outcome saved at this desk; {n} waiting to sync.").format(n=saved.waiting)
        )
        self._refresh_counts()
        self.sync.notify_local_write()
        home = self.home
        if isinstance(home, StoreCounterView):
            home.refresh()  # the customer just served joins today's walk-ins
        elif isinstance(home, CallListView):
            home.callbacks.refresh()  # a call-back set on the outcome is due today

    def _refresh_counts(self) -> None:
        self.ctx.tasks.read(self.ctx.services.sync.refresh_counts, lambda _r: None)

    def _on_customer_report(self, customer_id: str, panel: str) -> None:
        if not customer_id:
            return
        dialog = FeedbackDialog(panel, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        values = dialog.values()
        feedback = self.ctx.services.feedback
        self.ctx.tasks.write(
            lambda: feedback.report(customer_id, **values),
            self._on_feedback_saved,
        )

    def _on_feedback_saved(self, _item_id: str) -> None:
        self.show_message(_("Thank you: the report will be synced."))
        self._refresh_counts()
        self.sync.notify_local_write()

    def _on_sync_cycle_done(self, report: SyncReport) -> None:
        if report.ok and isinstance(self.home, FieldView):
            self.home.release_removed()  # claims of removed visits that could not go back yet
        if report.pulled:
            self.refresh_home()
        if report.conflicts or report.rejected:
            self.show_message(
                _("{n} item(s) need attention after sync.").format(
                    n=report.conflicts + report.rejected
                )
            )

    def _current_id(self) -> str | None:
        screen = self.customer.current
        return None if screen is None else screen.view.customer_id

    # -- language ------------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Re-render every visible string in the current language."""
        session = self.ctx.session
        self.setWindowTitle(
            _("agentdesk — {name} ({role})").format(
                name=session.user.name, role=_role_label(session.role)
            )
        )
        index = 0
        if self.home is not None:
            self.work.setTabText(0, _home_title(session.role))
            index = 1
        self.work.setTabText(index, _("Search"))
        for view in (self.home, self.search, self.customer, self.sync_bar):
            if view is not None and hasattr(view, "retranslate"):
                view.retranslate()


def _home_title(role: Role) -> str:
    return {
        Role.CALL_CENTRE: _("Call list"),
        Role.FIELD: _("Visits"),
        Role.SUPERVISOR: _("Campaigns"),
        Role.ADMIN: _("Campaigns"),
    }.get(role, _("Home"))


def _role_label(role: Role) -> str:
    return {
        Role.CALL_CENTRE: _("call centre"),
        Role.STORE: _("store"),
        Role.FIELD: _("account manager"),
        Role.SUPERVISOR: _("supervisor"),
        Role.ADMIN: _("admin"),
    }[role]
