"""When to sync: on local writes (debounced), on reconnect, on a server ``change`` event, and
every 30 s, with full-jitter backoff after failures (docs/sync.md). Pure Python threads, no Qt.

One thread runs the cycles (so the engine is never re-entered); a second thread listens to
``GET /v1/events`` and wakes the first when something in the user's scope changed. :meth:`stop`
cancels a running cycle after its current request and joins both threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from agentdesk.sync.backoff import Backoff
from agentdesk.sync.engine import SyncEngine
from agentdesk.sync.errors import ServerBusy, SyncError
from agentdesk.sync.report import SyncReport

__all__ = ["SyncScheduler"]

_log = logging.getLogger(__name__)
_NEVER = float("inf")

ReportListener = Callable[[SyncReport], None]


class SyncScheduler:
    """Drives a :class:`SyncEngine` from a background thread.

    Args:
        engine: the engine to run.
        interval: seconds between periodic cycles.
        debounce: least seconds between write-triggered cycles (leading edge).
        backoff: failure backoff (full jitter, capped at 5 min by default).
        listen_events: also follow ``/v1/events`` (Server-Sent Events) on a second thread.
        sse_read_timeout: seconds of stream silence after which the listener reconnects.
        clock: monotonic clock.
    """

    def __init__(
        self,
        engine: SyncEngine,
        *,
        interval: float = 30.0,
        debounce: float = 1.0,
        backoff: Backoff | None = None,
        listen_events: bool = True,
        sse_read_timeout: float = 25.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self._interval = interval
        self._debounce = debounce
        self._backoff = backoff or Backoff()
        self._listen_events = listen_events
        self._sse_read_timeout = sse_read_timeout
        self._clock = clock
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._cancel = threading.Event()
        self._periodic_due = 0.0  # first cycle at once
        self._write_due = _NEVER
        self._kick_due = _NEVER
        self._backoff_until = 0.0
        self._last_cycle = float("-inf")
        self._reconnected = False  # a reconnect arrived while a cycle ran: no backoff after it
        self._listeners: list[ReportListener] = []
        self._threads: list[threading.Thread] = []
        self.last_exception: BaseException | None = None

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the cycle thread (and the event listener)."""
        targets: list[Callable[[], None]] = [self._run]
        if self._listen_events:
            targets.append(self._listen)
        for target in targets:
            thread = threading.Thread(target=target, name=f"sync-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float | None = None) -> None:
        """Cancel a running cycle after its current request and join the threads.

        Args:
            timeout: seconds to wait per thread (None: wait as long as needed).
        """
        self._stopping.set()
        self._cancel.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def add_listener(self, listener: ReportListener) -> None:
        """Call ``listener(report)`` on the sync thread after every cycle."""
        self._listeners.append(listener)

    def notify_local_write(self) -> None:
        """A new outbox item was committed: sync it now, or ``debounce`` s after the last cycle.

        The debounce is leading-edge: the first write after a quiet spell is pushed at once (other
        channels need the fact now), and a burst of writes costs at most one cycle a ``debounce``.
        """
        with self._cond:
            due = max(self._clock(), self._last_cycle + self._debounce)
            self._write_due = min(self._write_due, due)
            self._cond.notify_all()

    def notify_reconnect(self) -> None:
        """The network came back: forget the backoff and sync now."""
        with self._cond:
            self._backoff.succeeded()
            self._backoff_until = 0.0
            self._reconnected = True
            self._kick_due = self._clock()
            self._cond.notify_all()

    def sync_now(self) -> None:
        """Run a cycle as soon as the backoff allows (a server ``change`` event, a button)."""
        with self._cond:
            self._kick_due = self._clock()
            self._cond.notify_all()

    # -- the cycle thread ---------------------------------------------------------------------

    def _next_due(self) -> float:
        due = min(self._periodic_due, self._write_due, self._kick_due)
        return max(due, self._backoff_until)

    def _wait_until_due(self) -> bool:
        """Block until a cycle is due; False when stopping."""
        with self._cond:
            while not self._stopping.is_set():
                delay = self._next_due() - self._clock()
                if delay <= 0:
                    self._write_due = self._kick_due = _NEVER
                    self._reconnected = False
                    self._last_cycle = self._clock()
                    return True
                self._cond.wait(min(delay, 3600.0))
        return False

    def _run(self) -> None:
        while self._wait_until_due():
            try:
                report = self.engine.run_once(self._cancel)
            except Exception as exc:  # a bug: keep it for the UI, back off, keep syncing
                _log.exception("sync cycle failed")
                self.last_exception = exc
                report = SyncReport(error=SyncError(f"internal error: {exc}"))
            self._schedule_after(report)
            for listener in list(self._listeners):
                listener(report)

    def _schedule_after(self, report: SyncReport) -> None:
        with self._cond:
            now = self._clock()
            self._periodic_due = now + self._interval
            if report.ok or report.cancelled or self._reconnected:
                self._backoff.succeeded()
                self._backoff_until = 0.0
                return
            hint = report.retry_after
            if isinstance(report.error, ServerBusy):
                hint = report.error.retry_after
            self._backoff_until = now + self._backoff.failed(hint)

    # -- the event listener thread ------------------------------------------------------------

    def _listen(self) -> None:
        failures = Backoff(base=1.0, cap=30.0)
        down = False
        while not self._stopping.is_set():
            try:
                with self.engine.api.events(read_timeout=self._sse_read_timeout) as events:
                    if down:
                        self.notify_reconnect()
                    down = False
                    failures.succeeded()
                    for event in events:
                        if self._stopping.is_set():
                            return
                        if event.event == "change":
                            self.sync_now()
                continue  # idle stream ended: reconnect at once
            except SyncError as exc:
                _log.debug("event stream down: %s", exc)
                down = True
            self._stopping.wait(failures.failed())
