"""The customer view: header, data tabs, recommendations and the outcome form.

Opening a customer runs ``CustomerService.open`` on the reader pool (key ``"open"``: a newer
open wins). Saving runs ``OutcomeService.record`` on the single writer thread.

The outcome carries the claim held on the customer: the one taken with Ctrl+K (renewed every
TTL/3, released when the customer closes) or the visit plan's pre-claim (adopted when the
customer opens; neither renewed nor released on close, and Ctrl+K keeps it rather than asking
for a shorter lease).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from agentdesk.domain import Channel, Reaction
from agentdesk.i18n import _
from agentdesk.services import compute
from agentdesk.services.customer import CacheFilling
from agentdesk.services.dto import ClaimTicket, CustomerScreen, OutcomeDraft, OutcomeSaved
from agentdesk.ui import texts
from agentdesk.ui.context import UiContext
from agentdesk.ui.views.customer_tabs import CustomerTabs
from agentdesk.ui.views.header import CustomerHeader
from agentdesk.ui.views.outcome_form import OutcomeForm
from agentdesk.ui.views.recommendations import RecommendationsPanel

__all__ = ["CustomerPanel"]


class CustomerPanel(QWidget):
    """Everything about the open customer.

    Signals:
        sig_opened: (CustomerScreen) a customer is shown.
        sig_saved: (OutcomeSaved) an outcome was durably saved.
        sig_report: (str customer_id, str panel) "report wrong data".
        sig_message: (str) a one-line status message for the status bar.
    """

    sig_opened = Signal(object)
    sig_saved = Signal(object)
    sig_report = Signal(str, str)
    sig_message = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.current: CustomerScreen | None = None
        self.claim: ClaimTicket | None = None
        self.renewals = 0
        self._renew_timer = QTimer(self)
        self._renew_timer.timeout.connect(self._on_renew_timer_timeout)
        self.header = CustomerHeader()
        self.tabs = CustomerTabs()
        self.offers = RecommendationsPanel()
        self.outcome = OutcomeForm(self._save, self.offers.reactions)
        self.loading = QLabel()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        right_layout.addWidget(self.offers, 3)
        right_layout.addWidget(self.outcome, 0)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.loading)
        layout.addWidget(split, 1)
        self.loading.hide()
        self.tabs.sig_report.connect(self._on_tabs_report)
        self.outcome.sig_saved.connect(self._on_outcome_saved)
        self.show_screen(None)

    # -- opening -------------------------------------------------------------------------------
    def open_customer(
        self,
        customer_id: str,
        channel: Channel | None = None,
        on_open: Callable[[CustomerScreen], None] | None = None,
    ) -> None:
        """Load and show ``customer_id`` (latest open wins)."""
        self.loading.setText(_("Opening {id}…").format(id=customer_id))
        self.loading.show()

        tasks, session, customers = self._ctx.tasks, self._ctx.session, self._ctx.services.customers

        def done(screen: CustomerScreen) -> None:
            self.show_screen(screen)
            if on_open is not None:
                on_open(screen)

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, CacheFilling):
                self._on_open_failed(exc)
                return
            # a first sync is filling the cache: the service's view, fetched on a thread
            # (docs/sync.md, "While the cache fills"), then the screen in the worker process
            tasks.read(
                lambda: customers.fetch_view(customer_id),
                with_view,
                on_error=self._on_open_failed,
                key="open",
            )

        def with_view(view: dict[str, Any] | None) -> None:  # None: the cache as far as it got
            tasks.compute(
                compute.open_customer, session, customer_id, channel, False, view,
                on_done=done, on_error=self._on_open_failed, key="open",
            )  # fmt: skip

        tasks.compute(
            compute.open_customer, session, customer_id, channel, customers.can_ask_service,
            on_done=done, on_error=failed, key="open",
        )  # fmt: skip

    def show_screen(self, screen: CustomerScreen | None) -> None:
        """Show an already loaded screen."""
        self.loading.hide()
        self.current = screen
        if self.claim is not None and (
            screen is None or screen.view.customer_id != self.claim.customer_id
        ):
            self.release_claim()  # the customer was closed: give the claim back
        own = screen.own_claim if screen is not None else None
        if own is not None and (
            self.claim is None
            or (self.claim.claim_id == own.claim_id and own.lease_until > self.claim.lease_until)
        ):
            self.claim = own  # the visit plan's pre-claim: the outcome carries it
            self._renew_timer.stop()
        self.header.show_screen(screen)
        self.tabs.show_screen(screen)
        self.offers.show_screen(screen)
        self.outcome.show_screen(screen)
        if screen is not None:
            self.sig_opened.emit(screen)

    def _on_open_failed(self, exc: BaseException) -> None:
        self.loading.hide()
        self.sig_message.emit(
            _("Could not open the customer: {reason}").format(
                reason=getattr(exc, "sentence", None) or str(exc)
            )
        )

    # -- actions bound to shortcuts ------------------------------------------------------------
    def react(self, reaction: Reaction) -> bool:
        """Accept / decline / later on the current offer."""
        return self.offers.react_current(reaction)

    def select_result(self, index: int) -> None:
        """Alt+digit: choose a result code and put the focus on the note."""
        self.outcome.select_result(index)

    def save(self) -> bool:
        """Ctrl+Enter."""
        return self.current is not None and self.outcome.submit()

    def toggle_claim(self) -> None:
        """Claim the customer before calling/visiting, or release the claim."""
        screen = self.current
        if screen is None or screen.channel is None:
            return
        customers = self._ctx.services.customers
        if self.claim is not None and self.claim.preclaimed:
            self.sig_message.emit(_preclaimed_sentence(self.claim))  # kept: never shortened
            return
        if self.claim is not None:
            self.release_claim()
            return
        channel, cid = screen.channel, screen.view.customer_id
        self._ctx.tasks.read(
            lambda: customers.claim(cid, channel), self._on_claimed, on_error=self._on_claim_failed
        )

    def release_claim(self) -> None:
        """Give the held claim back (Ctrl+K again, or the customer was closed).

        A pre-claim of the visit plan is only let go here: it stays the plan's until the
        outcome or taking the visit out of the plan gives it back.
        """
        ticket, self.claim = self.claim, None
        self._renew_timer.stop()
        if ticket is None or ticket.preclaimed:
            return
        customers = self._ctx.services.customers
        self._ctx.tasks.read(
            lambda: customers.release(ticket),
            lambda _r: self.sig_message.emit(_("Claim released.")),
            on_error=self._on_claim_failed,
        )

    def _on_renew_timer_timeout(self) -> None:
        ticket = self.claim
        if ticket is None:
            self._renew_timer.stop()
            return
        customers = self._ctx.services.customers
        self._ctx.tasks.read(
            lambda: customers.renew(ticket), self._on_renewed, on_error=self._on_renew_failed
        )

    def _on_renewed(self, ticket: ClaimTicket) -> None:
        if self.claim is not None and self.claim.claim_id == ticket.claim_id:
            self.claim = ticket
            self.renewals += 1
            if ticket.preclaimed:  # pre-claimed meanwhile: renewing would shorten it
                self._renew_timer.stop()

    def _on_renew_failed(self, exc: BaseException) -> None:
        if self.claim is None:
            return
        if self.claim.lease_until > datetime.now(UTC):
            return  # try again at the next tick while the lease still runs
        self.claim = None
        self._renew_timer.stop()
        self._on_claim_failed(exc)

    def _on_claimed(self, ticket: ClaimTicket) -> None:
        current = self.current
        if current is None or current.view.customer_id != ticket.customer_id:
            self.claim = ticket
            self.release_claim()  # the customer was closed while we asked
            return
        self.claim = ticket
        if ticket.preclaimed:
            self._renew_timer.stop()
            self.sig_message.emit(_preclaimed_sentence(ticket))
            return
        self._renew_timer.start(max(1000, ticket.ttl_s * 1000 // 3))
        self.sig_message.emit(
            ticket.message or _("Claimed: others see you are working this customer.")
        )

    def _on_claim_failed(self, exc: BaseException) -> None:
        self.sig_message.emit(_("Claim failed: {reason}").format(reason=str(exc)))

    # -- saving --------------------------------------------------------------------------------
    def _save(
        self,
        draft: OutcomeDraft,
        on_done: Callable[[OutcomeSaved], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        if self.claim is not None:
            draft = dataclasses.replace(draft, claim_id=self.claim.claim_id, fence=self.claim.fence)
        outcomes = self._ctx.services.outcomes
        self._ctx.tasks.write(lambda: outcomes.record(draft), on_done, on_error=on_error)

    def _on_outcome_saved(self, saved: OutcomeSaved) -> None:
        self.claim = None  # the outcome carries release_claim: released at push time
        self._renew_timer.stop()
        self.sig_saved.emit(saved)

    def _on_tabs_report(self, panel: str) -> None:
        if self.current is not None:
            self.sig_report.emit(self.current.view.customer_id, panel)

    def retranslate(self) -> None:
        """Re-render in the current language."""
        self.header.retranslate()
        self.tabs.retranslate()
        self.offers.retranslate()
        self.outcome.retranslate()


def _preclaimed_sentence(ticket: ClaimTicket) -> str:
    return _("Already yours until {time}: claimed with your visit plan.").format(
        time=texts.fmt_when(ticket.lease_until)
    )
