"""Run a callback once the repaints already asked for are done (first screen before the rest).

Qt posts a widget's repaint (``UpdateRequest``) at low event priority. An event posted after
it at the same priority is delivered after it, so work started from :meth:`AfterRepaint.post`
never delays the paint that shows what just arrived: the search list's count after its first
window, the home list and sync after the main window's first paint.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt

__all__ = ["AfterRepaint"]


class AfterRepaint(QObject):
    """Calls ``callback`` on the GUI thread after the pending repaints, once per :meth:`post`.

    ``QEvent.Type.User`` is a member of PySide6's enum: a registered event type is not, and
    PySide6 would build a new enum member each time Python code asked such an event its type.
    """

    def __init__(self, callback: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._callback = callback

    def post(self) -> None:
        """Queue the callback behind the repaints posted so far."""
        event = QEvent(QEvent.Type.User)
        QCoreApplication.postEvent(self, event, Qt.EventPriority.LowEventPriority.value)

    def customEvent(self, _event: QEvent) -> None:
        self._callback()
