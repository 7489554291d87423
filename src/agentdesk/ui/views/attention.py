"""The "Needs attention" list: conflicts and rejected items, each with what to do."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from agentdesk.i18n import _
from agentdesk.services.dto import AttentionItem
from agentdesk.ui import texts
from agentdesk.ui.models.rows_model import Column
from agentdesk.ui.views.work_lists import ListTable

__all__ = ["AttentionDialog", "what_to_do"]


def what_to_do(item: AttentionItem) -> str:
    """One sentence: what happened and what the user should do."""
    advice = {
        "frequency_cap": _(
            "Saved, but the customer was contacted too often: do not pitch again this week."
        ),
        "min_gap": _("Saved, but too soon after another contact: leave the customer alone today."),
        "claimed_by_other": _("Saved; another agent was working this customer: check their note."),
        "stale_fence": _(
            "Saved; your claim had expired: check the contact history before calling again."
        ),
        "quiet_hours": _("Saved, but made in quiet hours: call inside allowed hours next time."),
        "do_not_contact": _(
            "Saved, but the customer asked not to be contacted: do not call again."
        ),
        "sensitive_channel": _(
            "Saved, but this channel is sensitive for the customer: use another channel."
        ),
        "suppressed": _("Saved, but the offer was in cool-down: do not pitch it again for now."),
        "out_of_scope": _("Refused: the customer is outside your scope; ask your supervisor."),
        "invalid_payload": _("Refused as invalid: correct it and save it again."),
    }
    if item.code in advice:
        return advice[item.code]
    if item.state == "rejected":
        return _("Refused by the service ({code}): correct it and save again.").format(
            code=texts.conflict_label(item.code)
        )
    return _("Saved with a policy conflict ({code}): your supervisor has been told.").format(
        code=texts.conflict_label(item.code)
    )


def _columns() -> list[Column[AttentionItem]]:
    return [
        Column(lambda: _("When"), lambda a: texts.fmt_datetime(a.created_at), 120),
        Column(lambda: _("Customer"), lambda a: a.customer_id, 90),
        Column(
            lambda: _("State"),
            lambda a: _("conflict") if a.state == "conflict" else _("refused"),
            70,
        ),
        Column(lambda: _("What to do"), what_to_do, 360, tooltip=what_to_do),
        Column(
            lambda: _("Detail"),
            lambda a: texts.conflict_detail(a.code, a.detail) if a.state == "conflict" else "",
            400,
            tooltip=lambda a: texts.conflict_detail(a.code, a.detail),
        ),
    ]


class AttentionDialog(QDialog):
    """Lists items; Enter opens the customer, Delete dismisses.

    Signals:
        sig_open_customer: (str)
        sig_dismiss: (str) outbox item id
    """

    sig_open_customer = Signal(str)
    sig_dismiss = Signal(str)

    def __init__(self, items: list[AttentionItem], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Needs attention"))
        self.table = ListTable(_columns())
        self.table.rows_model.set_rows(items)
        self.table.sig_open_customer.connect(self.sig_open_customer)
        self.dismiss = QPushButton(_("Dismiss (Del)"))
        self.dismiss.setShortcut("Del")
        self.dismiss.clicked.connect(self._on_dismiss_clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.dismiss, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        empty = _("Nothing needs attention.") if not items else ""
        layout.addWidget(QLabel(empty or _("Conflicts and refused items from the last syncs:")))
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        if items:
            self.table.selectRow(0)
        self.resize(1200, 360)

    def _on_dismiss_clicked(self) -> None:
        row = self.table.currentIndex().row()
        item = self.table.rows_model.row_object(row)
        if item is None:
            return
        self.sig_dismiss.emit(item.item_id)
        rows = self.table.rows_model.rows()
        rows.pop(row)
        self.table.rows_model.set_rows(rows)
