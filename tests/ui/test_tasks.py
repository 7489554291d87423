"""A task whose widget was closed while it ran is dropped, not delivered to a deleted widget.

pytest-qt fails a test when an exception escapes a Qt callback: delivering a result to a
deleted widget raises ``RuntimeError: Internal C++ object … already deleted`` there. Each
worker is held on a ``threading.Event`` until the widget is gone, so the order is fixed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QLabel

from agentdesk.services.search import MatchCount, SearchService
from agentdesk.ui.context import UiContext
from agentdesk.ui.tasks import TaskManager, TaskState, receiver_of
from agentdesk.ui.views.search_panel import SearchPanel

WAIT_MS = 10_000  # a guard against a hang, not a timing assertion


@pytest.fixture
def tasks() -> Iterator[TaskManager]:
    manager = TaskManager(use_processes=False)
    yield manager
    manager.shutdown(wait=True)


def delete_now(widget: QLabel | SearchPanel) -> None:
    """What closing a panel does: ``deleteLater``, and the event loop deletes it."""
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _double(value: int) -> int:
    return value * 2


class Shown(QLabel):
    """Shows what its task brings back; every callback touches the widget's C++ side."""

    def __init__(self, tasks: TaskManager) -> None:
        super().__init__()
        self.tasks = tasks

    def show_value(self, value: object) -> None:
        self.setText(f"got {value}")

    def start(self, how: str, gate: threading.Event) -> None:
        def held(value: int = 21) -> Callable[..., int]:
            def run(*_state: object) -> int:
                assert gate.wait(WAIT_MS / 1000)
                return value

            return run

        def failing() -> int:
            assert gate.wait(WAIT_MS / 1000)
            raise OSError("cache busy")

        def reporting(state: TaskState[int]) -> int:
            assert gate.wait(WAIT_MS / 1000)
            state.set_progress(0.5)
            return 21

        if how == "bound method":
            self.tasks.read(held(), self.show_value)
        elif how == "lambda in a method":
            self.tasks.count(held(), lambda n: self.show_value(n), with_state=True)
        elif how == "error handler":
            self.tasks.read(failing, self.show_value, on_error=lambda e: self.setText(str(e)))
        elif how == "progress":
            self.tasks.read(
                reporting,
                lambda _n: None,
                on_progress=lambda f: self.setText(f"{f:.0%}"),
                with_state=True,
            )
        elif how == "compute":
            self.tasks.compute(_double, 21, on_done=self.show_value)
        else:  # "named receiver": the callback is nobody's method
            label = self
            self.tasks.write(held(), lambda n: label.setText(f"got {n}"), receiver=label)


EXPECTED = {
    "bound method": "got 21",
    "lambda in a method": "got 21",
    "error handler": "cache busy",
    "progress": "50%",
    "compute": "got 42",
    "named receiver": "got 21",
}


@pytest.mark.parametrize("how", list(EXPECTED))
def test_a_result_for_a_deleted_widget_is_dropped_and_a_live_one_gets_it(
    qtbot: Any, tasks: TaskManager, how: str
) -> None:
    gate = threading.Event()
    gone, alive = Shown(tasks), Shown(tasks)
    qtbot.addWidget(alive)
    gone.start(how, gate)
    alive.start(how, gate)
    delete_now(gone)
    gate.set()
    qtbot.waitUntil(lambda: tasks.in_flight == 0, timeout=WAIT_MS)
    QCoreApplication.processEvents()  # anything still queued for the deleted one runs now
    assert alive.text() == EXPECTED[how]


def test_an_unhandled_error_of_a_deleted_widget_shows_no_message(
    qtbot: Any, tasks: TaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentdesk.ui.tasks")
    gate = threading.Event()
    messages: list[str] = []
    tasks.sig_error.connect(messages.append)

    def failing() -> int:
        assert gate.wait(WAIT_MS / 1000)
        raise OSError("cache busy")

    gone, alive = Shown(tasks), Shown(tasks)
    qtbot.addWidget(alive)
    tasks.read(failing, gone.show_value)
    tasks.read(failing, alive.show_value)
    delete_now(gone)
    gate.set()
    qtbot.waitUntil(lambda: tasks.in_flight == 0, timeout=WAIT_MS)
    assert messages == ["cache busy"]  # the live widget's error, once
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped == [
        "task error dropped (its widget is gone or a newer task replaced it): cache busy"
    ]  # the deleted widget's error is not lost silently


def test_a_task_of_no_widget_is_always_delivered(qtbot: Any, tasks: TaskManager) -> None:
    got: list[int] = []
    assert receiver_of(got.append) is None
    with qtbot.waitCallback(timeout=WAIT_MS) as done:
        tasks.write(lambda: 7, got.append)
        tasks.write(lambda: 8, done)
    assert got == [7]
    assert done.args == [8]


def test_a_search_panel_closed_while_counting_drops_the_count(
    qtbot: Any, build: Any, tasks: TaskManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = build()
    started, release = threading.Event(), threading.Event()
    real_count = SearchService.count

    def held_count(
        service: SearchService, text: str, cancel: threading.Event | None = None
    ) -> MatchCount:
        started.set()
        assert release.wait(WAIT_MS / 1000)
        return real_count(service, text, None)  # finishes even when asked to stop

    monkeypatch.setattr(SearchService, "count", held_count)
    ctx = UiContext(tasks, built.services, built.session)
    panel = SearchPanel(ctx)
    panel.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    panel.show()
    panel.run_query("138")  # 118 of the 120 customers: more than the first window
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    assert panel.summary.text().startswith("50+ found")
    panel.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    release.set()
    qtbot.waitUntil(lambda: tasks.in_flight == 0, timeout=WAIT_MS)
    QCoreApplication.processEvents()

    again = SearchPanel(ctx)  # a panel that stays open gets its count
    qtbot.addWidget(again)
    again.show()
    again.run_query("138")
    qtbot.waitUntil(lambda: again.summary.text().startswith("118 found"), timeout=WAIT_MS)
    assert again.model.rowCount() == 118


def test_closing_a_widget_stops_its_task(qtbot: Any, tasks: TaskManager) -> None:
    """A closed panel's long count stops instead of holding the count thread."""
    stopped: list[bool] = []
    gone = Shown(tasks)

    def long_count(state: TaskState[int]) -> int:
        stopped.append(state.cancel_event.wait(WAIT_MS / 1000))
        return 0

    tasks.count(long_count, gone.show_value, with_state=True)
    delete_now(gone)
    qtbot.waitUntil(lambda: tasks.in_flight == 0, timeout=WAIT_MS)
    assert stopped == [True]


def test_a_read_superseded_before_it_started_never_runs(qtbot: Any, tasks: TaskManager) -> None:
    """Typing on while a slow search (a service that hangs) holds the reader: the searches
    typed in between are not run at all, only the newest one is."""
    gate = threading.Event()
    ran: list[str] = []

    def search(text: str) -> Callable[[], str]:
        def run() -> str:
            ran.append(text)
            if text == "1":
                assert gate.wait(WAIT_MS / 1000)
            return text

        return run

    label = QLabel()
    qtbot.addWidget(label)
    got: list[str] = []
    tasks.read(search("1"), got.append, key="search", receiver=label)
    qtbot.waitUntil(lambda: ran == ["1"], timeout=WAIT_MS)
    tasks.read(search("13"), got.append, key="search", receiver=label)
    tasks.read(search("138"), got.append, key="search", receiver=label)
    gate.set()
    qtbot.waitUntil(lambda: got == ["138"], timeout=WAIT_MS)
    assert ran == ["1", "138"]
