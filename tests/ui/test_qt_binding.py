"""The installed Qt binding keeps Python's ``None``, ``True`` and ``False`` alive.

PySide6-Essentials 6.12.0 on Python 3.11 took one reference off ``None`` on every call of a Qt
method that returns nothing (``QLabel.setText``, ``QTimer.setInterval``…) and one off ``True``
on every signal emitted from Python. The desktop makes such calls all day (every search, every
background task's result), so the count reached zero after some thousands of them and the
process died in ``none_dealloc``/``bool_dealloc``: an agent's app would crash mid-shift. These
tests fail on such a binding (pyproject.toml keeps it out); on Python 3.12+ the three objects
are immortal and the counts do not move at all.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

CALLS = 1000
SLACK = 50  # other references come and go (the test's own frames); the bug moved 1 per call


class _Emitter(QObject):
    changed = Signal(int)


def test_void_qt_calls_leave_none_alive(qtbot: object) -> None:
    label, timer = QLabel(), QTimer()
    before = sys.getrefcount(None)
    for i in range(CALLS):
        label.setText("13800138000")
        timer.setInterval(i + 1)
        label.setObjectName("phone")
    assert sys.getrefcount(None) > before - SLACK


def test_emitting_a_signal_leaves_true_and_false_alive(qtbot: object) -> None:
    emitter, seen = _Emitter(), []
    emitter.changed.connect(seen.append)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(CALLS):
        emitter.changed.emit(i)
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert len(seen) == CALLS
    assert after[0] > before[0] - SLACK
    assert after[1] > before[1] - SLACK
