"""The GUI thread is never busy for more than 100 ms while searches, loads and sync run.

Two instruments on the GUI thread while real work runs (searches against the real SQLite cache,
a customer load and the call list in the worker process, a login and a full sync cycle against
the real service over its in-process HTTP client):

* a hook on Qt's event dispatcher (``aboutToBlock`` / ``awake``) times every stretch during which
  the GUI thread is not waiting for events: every slot, callback, paint and the test's own
  direct calls (``run_query``, ``open_customer``, ``sync_now``) run inside such a stretch. No
  stretch may use more than 100 ms of the GUI thread's own CPU time (``time.thread_time``), and
  none may last more than 1 s of wall time (a wait on a lock or a future on the GUI thread).
  Wall time below that is reported, not asserted: on a loaded 2-core CI machine it also counts
  time the OS gave to other processes;
* ``sys.setprofile`` on the GUI thread (it sees that thread only) records every call into
  ``sqlite3`` (execute, commit, ...) and into a socket (connect, send, recv): the GUI thread
  must make none, however fast the call happens to be on this small data set;
* a 10 ms QTimer heartbeat proves the loop kept turning (its gaps are reported, not asserted:
  they also count time the OS gave to other processes, which says nothing about our code).

Proved by mutation: calling the search service synchronously in ``run_query`` makes the first
test fail (SQL on the GUI thread), and so does running the sync cycle in ``sync_now``.
"""

from __future__ import annotations

import socket
import sqlite3
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from PySide6.QtCore import QAbstractEventDispatcher, QElapsedTimer, QTimer

from agentdesk.services import build_services
from agentdesk.services.auth import AuthService
from agentdesk.ui.context import UiContext
from agentdesk.ui.language import LanguageSwitcher
from agentdesk.ui.mainwindow import MainWindow
from agentdesk.ui.sync_controller import SyncController
from agentdesk.ui.tasks import TaskManager
from tests.ui.central import PASSWORD, Central

BUSY_LIMIT_MS = 100  # GUI-thread CPU time in one stretch
WALL_LIMIT_MS = 1000  # wall time in one stretch: a wait on a lock or future on the GUI thread


class Heartbeat:
    """Times each busy stretch of the GUI thread, and ticks every 10 ms."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._on_tick)
        self.dispatcher = QAbstractEventDispatcher.instance()
        self.last = 0
        self.busy_since: int | None = None
        self.cpu_since = 0.0
        self.max_gap = 0
        self.max_busy = 0
        self.max_busy_cpu = 0
        self.stretches = 0
        self.ticks = 0
        self.blocking_calls: list[str] = []

    def _profile(self, _frame: FrameType, event: str, arg: Any) -> None:
        if event != "c_call":
            return
        owner = getattr(arg, "__self__", None)
        if isinstance(owner, sqlite3.Connection | sqlite3.Cursor | socket.socket):
            self.blocking_calls.append(f"{type(owner).__name__}.{arg.__name__}")

    def start(self) -> None:
        self.clock.start()
        self.last = 0
        self.busy_since = 0  # the caller's own code runs until the loop next waits
        self.cpu_since = time.thread_time()
        self.dispatcher.aboutToBlock.connect(self._on_about_to_block)
        self.dispatcher.awake.connect(self._on_awake)
        self.timer.start()
        sys.setprofile(self._profile)

    def stop(self) -> None:
        sys.setprofile(None)
        self._on_tick()
        self._on_about_to_block()
        self.timer.stop()
        self.dispatcher.aboutToBlock.disconnect(self._on_about_to_block)
        self.dispatcher.awake.disconnect(self._on_awake)

    def _on_awake(self) -> None:
        if self.busy_since is None:
            self.busy_since = self.clock.elapsed()
            self.cpu_since = time.thread_time()

    def _on_about_to_block(self) -> None:
        if self.busy_since is not None:
            self.max_busy = max(self.max_busy, self.clock.elapsed() - self.busy_since)
            cpu_ms = round((time.thread_time() - self.cpu_since) * 1000)
            self.max_busy_cpu = max(self.max_busy_cpu, cpu_ms)
            self.stretches += 1
        self.busy_since = None

    def _on_tick(self) -> None:
        now = self.clock.elapsed()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.ticks += 1

    def verdict(self) -> str:
        return (
            f"I/O on the GUI thread: {sorted(set(self.blocking_calls))[:8]}; "
            f"GUI thread busy {self.max_busy_cpu} ms CPU / {self.max_busy} ms wall in one stretch "
            f"({self.stretches} stretches; "
            f"largest heartbeat gap {self.max_gap} ms, {self.ticks} ticks)"
        )


def test_gui_keeps_ticking_during_search_open_and_call_list(qtbot: Any, make_ui: Any) -> None:
    ui = make_ui(processes=True)  # the real set-up: heavy reads in the worker process
    window = ui.window
    with qtbot.waitSignal(window.customer.sig_opened, timeout=120000):
        window.open_customer("C00000020")  # starts the worker process; first Chinese paint
    qtbot.wait(50)
    beat = Heartbeat()
    beat.start()
    with (
        qtbot.waitSignal(window.home.table.rows_model.modelReset, timeout=10000),
        qtbot.waitSignal(window.search.sig_results, timeout=10000),
        qtbot.waitSignal(window.customer.sig_opened, timeout=10000),
    ):
        window.refresh_home()
        for text in ("1", "13", "138", "王", "王小"):
            window.search.run_query(text)  # latest request wins
        window.open_customer("C00000021")
    qtbot.wait(30)
    beat.stop()
    assert beat.ticks >= 3
    assert beat.stretches >= 3
    assert not beat.blocking_calls, beat.verdict()
    assert beat.max_busy_cpu < BUSY_LIMIT_MS, beat.verdict()
    assert beat.max_busy < WALL_LIMIT_MS, beat.verdict()
    assert window.search.box.text() == ""  # run_query does not type into the box
    assert window.search.model.hit(0).name.startswith("王小")  # the last query won


def test_gui_keeps_ticking_during_login_and_sync(
    qtbot: Any, tmp_path: Path, central: Central
) -> None:
    auth = AuthService(
        lambda user: tmp_path / user / "cache.db",
        "http://testserver",
        "dev-9",
        api_factory=lambda _url: central.api(),
    )
    tasks = TaskManager(use_processes=False)
    login_beat = Heartbeat()
    login_beat.start()
    with qtbot.waitCallback(timeout=20000) as logged_in:
        tasks.sync(lambda: auth.login("agent1", PASSWORD), logged_in)
    login_beat.stop()
    login = logged_in.args[0]
    services = build_services(login)
    sync = SyncController(tasks, services.sync)
    language = LanguageSwitcher()
    language.install("en")
    window = MainWindow(UiContext(tasks, services, login.session), sync, language)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the first paint is set-up, not sync
    beat = Heartbeat()
    beat.start()
    with qtbot.waitSignal(sync.sig_cycle_done, timeout=20000) as done:
        sync.sync_now()
    beat.stop()
    try:
        assert done.args[0].ok
        for measured in (login_beat, beat):
            assert not measured.blocking_calls, measured.verdict()
            assert measured.max_busy_cpu < BUSY_LIMIT_MS, measured.verdict()
            assert measured.max_busy < WALL_LIMIT_MS, measured.verdict()
    finally:
        sync.stop()
        tasks.shutdown(wait=True)
        services.db.close()
