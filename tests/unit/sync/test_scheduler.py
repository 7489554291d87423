"""SyncScheduler: cycles on start, local writes, reconnects and server events; stops cleanly."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agentdesk.sync import Backoff, Offline, SyncReport, SyncScheduler
from agentdesk.sync.sse import ServerEvent


class FakeApi:
    def __init__(self, events: list[ServerEvent]) -> None:
        self._events = events
        self.opened = threading.Event()

    @contextmanager
    def events(self, *, read_timeout: float) -> Iterator[Iterator[ServerEvent]]:
        if self.opened.is_set():
            raise Offline("stream closed")
        self.opened.set()
        yield iter(self._events)


class FakeEngine:
    """Counts cycles; fails the cycles listed in ``failing``."""

    def __init__(self, failing: set[int] = frozenset(), events: list[ServerEvent] = ()) -> None:  # type: ignore[assignment]
        self.api: Any = FakeApi(list(events))
        self.cycles = 0
        self.failing = failing
        self.cond = threading.Condition()

    def run_once(self, cancel: threading.Event | None = None) -> SyncReport:
        with self.cond:
            self.cycles += 1
            self.cond.notify_all()
            if self.cycles in self.failing:
                return SyncReport(error=Offline("down"))
            return SyncReport()

    def wait_cycles(self, n: int) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.cycles >= n, timeout=10)


def _scheduler(engine: FakeEngine, **kwargs: Any) -> SyncScheduler:
    kwargs.setdefault("listen_events", False)
    kwargs.setdefault("backoff", Backoff(base=3600, rng=random.Random(1)))
    return SyncScheduler(engine, interval=3600, debounce=0.01, **kwargs)  # type: ignore[arg-type]


def test_first_cycle_at_start_then_one_per_local_write() -> None:
    engine = FakeEngine()
    scheduler = _scheduler(engine)
    scheduler.start()
    assert engine.wait_cycles(1)
    scheduler.notify_local_write()
    assert engine.wait_cycles(2)
    scheduler.stop()
    assert scheduler._threads == []


def test_reconnect_skips_the_backoff_of_a_failed_cycle() -> None:
    engine = FakeEngine(failing={1})
    reports: list[SyncReport] = []
    scheduler = _scheduler(engine)
    scheduler.add_listener(reports.append)
    scheduler.start()
    assert engine.wait_cycles(1)
    scheduler.notify_reconnect()
    assert engine.wait_cycles(2)
    scheduler.stop()
    assert isinstance(reports[0].error, Offline)
    assert reports[1].ok


def test_a_server_change_event_starts_a_cycle() -> None:
    engine = FakeEngine(events=[ServerEvent("change", '{"seq": 4}')])
    scheduler = _scheduler(engine, listen_events=True, sse_read_timeout=1)
    scheduler.start()
    assert engine.wait_cycles(2)
    scheduler.stop(timeout=5)


def test_a_crashing_cycle_is_kept_for_the_ui_and_syncing_goes_on() -> None:
    class Broken(FakeEngine):
        def run_once(self, cancel: threading.Event | None = None) -> SyncReport:
            report = super().run_once(cancel)
            if self.cycles == 1:
                raise RuntimeError("bug")
            return report

    engine = Broken()
    scheduler = _scheduler(engine)
    scheduler.start()
    assert engine.wait_cycles(1)
    scheduler.notify_reconnect()
    assert engine.wait_cycles(2)
    scheduler.stop()
    assert isinstance(scheduler.last_exception, RuntimeError)
