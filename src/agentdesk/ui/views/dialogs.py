"""Small dialogs: settings (language), shortcut sheet (F1), report wrong data, pick a customer."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agentdesk.i18n import _
from agentdesk.services.dto import SearchHit
from agentdesk.ui.shortcuts import shortcut_rows

__all__ = ["FeedbackDialog", "PickCustomerDialog", "SettingsDialog", "ShortcutSheet"]


class SettingsDialog(QDialog):
    """Language (Simplified Chinese / English)."""

    def __init__(self, language: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Settings"))
        self.language = QComboBox()
        self.language.addItem("简体中文", "zh_CN")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        form = QFormLayout(self)
        form.addRow(_("Language"), self.language)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen_language(self) -> str:
        """``zh_CN`` or ``en``."""
        return str(self.language.currentData())


class ShortcutSheet(QDialog):
    """F1: every keyboard shortcut on one page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Keyboard shortcuts"))
        rows = shortcut_rows()
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels([_("Keys"), _("Action")])
        table.verticalHeader().hide()
        for i, (keys, action) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(keys))
            table.setItem(i, 1, QTableWidgetItem(action))
        table.setColumnWidth(0, 170)
        table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        self.resize(560, 560)


class FeedbackDialog(QDialog):
    """ "This data is wrong": field, what is shown, what is right, a note."""

    def __init__(self, panel: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Report wrong data"))
        self.panel = panel
        self.field = QLineEdit()
        self.shown = QLineEdit()
        self.correct = QLineEdit()
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        form = QFormLayout(self)
        form.addRow(QLabel(_("Panel: {panel}").format(panel=panel)))
        form.addRow(_("Field"), self.field)
        form.addRow(_("Shown value"), self.shown)
        form.addRow(_("Correct value"), self.correct)
        form.addRow(_("Note"), self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, str]:
        """What the user typed."""
        return {
            "panel": self.panel,
            "field": self.field.text().strip(),
            "reported_value": self.shown.text().strip(),
            "correct_value": self.correct.text().strip(),
            "note": self.note.toPlainText().strip(),
        }


class PickCustomerDialog(QDialog):
    """Screen-pop with several matches (a family can share a number): pick one, Enter opens."""

    def __init__(
        self, msisdn: str, hits: Sequence[SearchHit], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Several customers use {msisdn}").format(msisdn=msisdn))
        self.list = QListWidget()
        for hit in hits:
            item = QListWidgetItem(
                f"{hit.name}   {hit.id_number}   {hit.segment}   {hit.customer_id}"
            )
            item.setData(256, hit.customer_id)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Choose the caller:")))
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def chosen_id(self) -> str | None:
        """The selected customer id."""
        item = self.list.currentItem()
        return None if item is None else str(item.data(256))
