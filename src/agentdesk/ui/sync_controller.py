"""Runs the pure sync engine on the sync worker, from a QTimer, and relays its status.

* every 30 s, 1 s after every saved outcome (debounced), and on demand (F5);
* never two cycles at once: a request while one runs sets a "run again" flag;
* the engine's ``SyncStatus`` subscriber is called on the sync thread, so it only forwards the
  snapshot to the GUI thread (``run_on_main``).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

from agentdesk.services.sync import SyncService
from agentdesk.sync.report import SyncReport
from agentdesk.sync.status import StatusSnapshot
from agentdesk.ui.tasks import TaskManager

__all__ = ["SyncController"]


class SyncController(QObject):
    """Schedules sync cycles.

    Signals:
        sig_status: (StatusSnapshot) on the GUI thread, after every change.
        sig_cycle_done: (SyncReport) after every cycle.
    """

    sig_status = Signal(object)
    sig_cycle_done = Signal(object)

    def __init__(
        self,
        tasks: TaskManager,
        service: SyncService,
        interval_ms: int = 30_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._service = service
        self._running = False
        self._again = False
        self._cancel = threading.Event()
        self._periodic = QTimer(self)
        self._periodic.setInterval(interval_ms)
        self._periodic.timeout.connect(self.sync_now)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(1000)
        self._debounce.timeout.connect(self.sync_now)
        self._unsubscribe = service.status.subscribe(self._on_status_any_thread)

    @property
    def running(self) -> bool:
        """A cycle is in progress."""
        return self._running

    def start(self, *, immediately: bool = True) -> None:
        """Start periodic sync (and run a first cycle now)."""
        self._periodic.start()
        if immediately:
            self.sync_now()

    def stop(self) -> None:
        """Stop timers, cancel a running cycle, and stop listening."""
        self._periodic.stop()
        self._debounce.stop()
        self._cancel.set()
        self._unsubscribe()

    def notify_local_write(self) -> None:
        """An outcome was saved: sync it within a second."""
        self._debounce.start()

    def sync_now(self) -> None:
        """Run a cycle now, or right after the running one."""
        if self._running:
            self._again = True
            return
        self._running = True
        self._cancel = threading.Event()
        cancel = self._cancel
        self._tasks.sync(
            lambda: self._service.run_once(cancel),
            self._on_cycle_done,
            on_error=self._on_cycle_failed,
        )

    def _on_cycle_done(self, report: SyncReport) -> None:
        self._running = False
        self.sig_cycle_done.emit(report)
        if self._again:
            self._again = False
            self.sync_now()

    def _on_cycle_failed(self, exc: BaseException) -> None:
        self._running = False
        self._service.status.update(state="offline", last_error=type(exc).__name__)

    def _on_status_any_thread(self, snapshot: StatusSnapshot) -> None:
        self._tasks.run_on_main(lambda: self.sig_status.emit(snapshot))
