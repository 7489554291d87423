"""Login dialog: online against the service, or offline for a user known on this machine.

The login itself runs on the sync worker (network); the dialog stays responsive and shows
the one-sentence reason when it fails.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from agentdesk.i18n import _
from agentdesk.services.dto import UserSession
from agentdesk.ui.tasks import TaskManager

__all__ = ["LoginDialog"]

LoginFn = Callable[[str, str], UserSession]


class LoginDialog(QDialog):
    """Username + password; ``session`` is set when accepted."""

    def __init__(
        self, tasks: TaskManager, login: LoginFn, username: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._login = login
        self.session: UserSession | None = None
        self.setWindowTitle(_("agentdesk: log in"))
        self.username = QLineEdit(username)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(_("User name"), self.username)
        form.addRow(_("Password"), self.password)
        form.addRow(self.message)
        form.addRow(self.buttons)
        (self.password if username else self.username).setFocus()

    def _on_ok(self) -> None:
        user, password = self.username.text().strip(), self.password.text()
        if not user or not password:
            self.message.setText(_("Enter your user name and password."))
            return
        self.buttons.setEnabled(False)
        self.message.setText(_("Logging in…"))
        self._tasks.sync(
            lambda: self._login(user, password), self._on_done, on_error=self._on_failed
        )

    def _on_done(self, session: UserSession) -> None:
        self.session = session
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(getattr(exc, "sentence", None) or str(exc))
        self.password.selectAll()
        self.password.setFocus()
