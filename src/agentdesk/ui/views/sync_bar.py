"""Sync status in the status bar: online/offline, items waiting, last sync, "Needs attention".

The sync engine's ``SyncStatus`` calls subscribers on the sync thread; :class:`SyncBar` hands
each snapshot to the GUI thread with ``TaskManager.run_on_main`` before touching widgets.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from agentdesk.i18n import _
from agentdesk.sync.status import StatusSnapshot
from agentdesk.ui import texts
from agentdesk.ui.style import set_style_property

__all__ = ["SyncBar"]


class SyncBar(QWidget):
    """Permanent status-bar widget.

    Signals:
        sig_attention_clicked: the user wants the "Needs attention" list.
        sig_sync_clicked: the user asked for a sync now.
    """

    sig_attention_clicked = Signal()
    sig_sync_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.snapshot = StatusSnapshot()
        self.state = QLabel()
        self.state.setObjectName("syncState")
        self.waiting = QLabel()
        self.last = QLabel()
        self.progress = QProgressBar()
        self.progress.setFixedWidth(160)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.sync_button = QPushButton()
        self.sync_button.setFlat(True)
        self.sync_button.clicked.connect(self.sig_sync_clicked)
        self.attention = QPushButton()
        self.attention.setObjectName("attentionButton")
        self.attention.setFlat(True)
        self.attention.clicked.connect(self.sig_attention_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for widget in (
            self.state,
            self.waiting,
            self.last,
            self.progress,
            self.sync_button,
            self.attention,
        ):
            layout.addWidget(widget)
        self.retranslate()

    def show_snapshot(self, snapshot: StatusSnapshot) -> None:
        """Render a status snapshot (GUI thread only)."""
        self.snapshot = snapshot
        self.retranslate()

    def retranslate(self) -> None:
        """Re-render in the current language."""
        snap = self.snapshot
        online = snap.state != "offline"
        labels = {"online": _("● Online"), "offline": _("● Offline"), "syncing": _("● Syncing…")}
        self.state.setText(labels.get(snap.state, snap.state))
        set_style_property(self.state, "online", "true" if online else "false")
        if snap.state == "offline" and snap.last_error:
            self.state.setToolTip(_("Last error: {code}").format(code=snap.last_error))
        self.waiting.setText(_("{n} waiting").format(n=snap.waiting))
        last = texts.fmt_when(snap.last_success) if snap.last_success else _("never")
        self.last.setText(_("last sync {time}").format(time=last))
        self.sync_button.setText(_("Sync now"))
        count = snap.conflicts + snap.rejected
        self.attention.setText(_("Needs attention ({n})").format(n=count))
        set_style_property(self.attention, "count", str(count))
        if snap.snapshot_total > 0 and snap.snapshot_done < snap.snapshot_total:
            self.progress.setMaximum(snap.snapshot_total)
            self.progress.setValue(snap.snapshot_done)
            self.progress.setFormat(_("first sync %p%"))
            self.progress.show()
        else:
            self.progress.hide()
