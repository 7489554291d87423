"""Outcome form: result code, offer reactions, note, next appointment; Ctrl+Enter saves.

The save is confirmed only when the durable local commit has returned (``sig_saved``); until
then the form shows "Saving…" and stays disabled. It works offline: the write goes to the
local outbox and sync sends it later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agentdesk.domain import OfferReaction, ResultCode
from agentdesk.i18n import _
from agentdesk.services.dto import CustomerScreen, OutcomeDraft, OutcomeSaved
from agentdesk.ui import texts

__all__ = ["RESULT_KEYS", "OutcomeForm"]

#: Result codes in the order of their Alt+digit shortcut (Alt+1 … Alt+9, Alt+0).
RESULT_KEYS: tuple[ResultCode, ...] = tuple(ResultCode)

Saver = Callable[
    [OutcomeDraft, Callable[[OutcomeSaved], None], Callable[[BaseException], None]], None
]


class OutcomeForm(QWidget):
    """Collects and saves one contact outcome.

    Args:
        save: ``save(draft, on_done, on_error)`` runs the durable write on the writer thread.
        reactions: returns the offer reactions captured in the recommendations panel.

    Signals:
        sig_saved: (OutcomeSaved) after the durable commit.
    """

    sig_saved = Signal(object)

    def __init__(
        self,
        save: Saver,
        reactions: Callable[[], tuple[OfferReaction, ...]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._save = save
        self._reactions = reactions
        self._screen: CustomerScreen | None = None
        self._started_at = datetime.now(UTC)
        self.heading = QLabel()
        self.heading.setObjectName("offerTitle")
        self.result = QComboBox()
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(54)
        self.appointment = QComboBox()
        self.save_button = QPushButton()
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(self.submit)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.result.currentIndexChanged.connect(self._on_result_changed)
        self.form = QFormLayout()
        self.form.addRow("", self.result)
        self.form.addRow("", self.note)
        self.form.addRow("", self.appointment)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(self.form)
        layout.addWidget(self.save_button)
        layout.addWidget(self.status)
        self.retranslate()
        self.show_screen(None)

    # -- data ----------------------------------------------------------------------------------
    def show_screen(self, screen: CustomerScreen | None) -> None:
        """Reset the form for a newly opened customer."""
        self._screen = screen
        self._started_at = datetime.now(UTC)
        self.result.setCurrentIndex(-1)
        self.note.clear()
        self.status.clear()
        self._fill_slots()
        self.setEnabled(screen is not None and screen.channel is not None)

    def select_result(self, index: int) -> None:
        """Pick the result code with the Alt+digit position ``index`` (0-based)."""
        if 0 <= index < self.result.count():
            self.result.setCurrentIndex(index)

    def current_result(self) -> ResultCode | None:
        """The chosen result code, or None."""
        data = self.result.currentData()
        return ResultCode(data) if data else None

    # -- saving --------------------------------------------------------------------------------
    def submit(self) -> bool:
        """Validate and start the durable save; False (with a message) when not valid."""
        draft = self._draft()
        if draft is None:
            return False
        self.setEnabled(False)
        self.status.setText(_("Saving…"))
        self._save(draft, self._on_save_done, self._on_save_failed)
        return True

    def _draft(self) -> OutcomeDraft | None:
        screen, code = self._screen, self.current_result()
        if screen is None or screen.channel is None:
            return None
        if code is None:
            self.status.setText(_("Choose a result (Alt+1 … Alt+0)."))
            self.result.setFocus()
            return None
        appointment = self.appointment.currentData() if self.appointment.isEnabled() else None
        if code.needs_appointment and appointment is None:
            self.status.setText(_("A call-back needs a time the policy allows."))
            self.appointment.setFocus()
            return None
        claim = None  # claims travel with the draft when the view holds one
        return OutcomeDraft(
            customer_id=screen.view.customer_id,
            channel=screen.channel,
            result_code=code,
            started_at=self._started_at,
            ended_at=datetime.now(UTC),
            note=self.note.toPlainText().strip(),
            reactions=self._reactions(),
            next_appointment_at=appointment,
            campaign_id=_campaign_of(self._reactions()),
            claim_id=claim,
        )

    def _on_save_done(self, saved: OutcomeSaved) -> None:
        self.setEnabled(True)
        self.status.setText(
            _("Saved at {time}; {n} waiting to sync.").format(
                time=texts.fmt_time(saved.saved_at), n=saved.waiting
            )
        )
        self.sig_saved.emit(saved)

    def _on_save_failed(self, exc: BaseException) -> None:
        self.setEnabled(True)
        sentence = getattr(exc, "sentence", None) or str(exc)
        self.status.setText(_("NOT saved: {reason}").format(reason=sentence))

    # -- internals -----------------------------------------------------------------------------
    def _fill_slots(self) -> None:
        self.appointment.clear()
        slots = self._screen.appointment_slots if self._screen else ()
        self.appointment.addItem(_("No appointment"), None)
        for slot in slots:
            self.appointment.addItem(texts.fmt_datetime(slot), slot)
        self._on_result_changed()

    def _on_result_changed(self, _index: int = -1) -> None:
        code = self.current_result()
        needs = code is not None and code.needs_appointment
        self.appointment.setEnabled(needs and self.appointment.count() > 1)
        if needs and self.appointment.currentIndex() == 0 and self.appointment.count() > 1:
            self.appointment.setCurrentIndex(1)

    def retranslate(self) -> None:
        """Re-render in the current language."""
        self.heading.setText(_("Outcome"))
        current = self.result.currentIndex()
        self.result.blockSignals(True)
        self.result.clear()
        for i, code in enumerate(RESULT_KEYS):
            key = (i + 1) % 10
            self.result.addItem(f"Alt+{key}  {texts.result_label(code)}", code.value)
        self.result.setCurrentIndex(current)
        self.result.blockSignals(False)
        self.note.setPlaceholderText(_("Note (optional)"))
        labels = (_("Result"), _("Note"), _("Next contact"))
        for row, text in enumerate(labels):
            item = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and item.widget() is not None:
                item.widget().setText(text)  # type: ignore[union-attr]
        self.save_button.setText(_("Save (Ctrl+Enter)"))
        self.save_button.setToolTip(_("Saved locally first; works offline."))
        self.result.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


def _campaign_of(reactions: tuple[OfferReaction, ...]) -> str | None:
    for reaction in reactions:
        if reaction.campaign_id:
            return reaction.campaign_id
    return None
