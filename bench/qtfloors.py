"""Raw Qt floors (offscreen): bare widgets doing what our views do, with nothing of agentdesk.

* painted list: a raw query, a ``QStandardItemModel`` of the rows, a ``QTableView`` grabbed;
* cold start: a fresh Python process that shows a bare ``QMainWindow`` (spawn → shown);
* windowed model: a ``QAbstractTableModel`` over a 1 M-row SQLite table that fetches only the
  visible page, first screen painted;
* memory: RSS of a process with PySide6 loaded and a bare window shown.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QHeaderView, QTableView

from bench.measure import Stat, repeat

__all__ = [
    "BARE_WINDOW",
    "WindowedModel",
    "floor_painted",
    "floor_view_painted",
    "floor_windowed",
    "qt_app",
    "spawn_shown",
]

BARE_WINDOW = """
import time, os
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1280, 800); w.show(); app.processEvents(); w.grab()
shown = time.time()
import psutil
print(f"SHOWN {shown} RSS {psutil.Process().memory_info().rss}", flush=True)
"""


def _quiet(mode: Any, context: Any, message: str) -> None:
    """Drop the offscreen plugin's chatter; print anything else."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


def qt_app() -> QApplication:
    """The process's QApplication (offscreen unless a platform is set)."""
    from PySide6.QtCore import qInstallMessageHandler

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    qInstallMessageHandler(_quiet)
    return QApplication([])


def _fixed_table() -> QTableView:
    view = QTableView()
    view.resize(900, 600)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(24)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    return view


def floor_view_painted(
    fetch: Callable[[int], tuple[tuple[Any, ...], list[Any], list[Any]]], n: int
) -> Stat:
    """Raw open-customer queries + bare labels and two tables painted (grab), per customer."""
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    qt_app()
    root = QWidget()
    root.resize(1280, 800)
    layout = QVBoxLayout(root)
    labels = [QLabel() for _ in range(8)]
    for label in labels:
        layout.addWidget(label)
    contacts, holdings = _fixed_table(), _fixed_table()
    layout.addWidget(contacts)
    layout.addWidget(holdings)
    root.show()

    def fill(view: QTableView, rows: list[Any]) -> None:
        model = QStandardItemModel(len(rows), 1)
        for r, value in enumerate(rows):
            model.setItem(r, 0, QStandardItem(str(value)[:80]))
        view.setModel(model)

    def one(i: int) -> None:
        head, contact_rows, holding_rows = fetch(i)
        for label, value in zip(labels, str(head[0]).split(",")[:8], strict=False):
            label.setText(value)
        fill(contacts, contact_rows)
        fill(holdings, holding_rows)
        root.grab()

    return repeat(one, n, warmup=5)


def floor_painted(query: Callable[[int], list[tuple[Any, ...]]], n: int) -> Stat:
    """Raw query + bare item model + painted ``QTableView`` (grab), per search."""
    qt_app()
    view = _fixed_table()
    view.show()

    def one(i: int) -> None:
        rows = query(i)
        model = QStandardItemModel(len(rows), 3)
        for r, row in enumerate(rows):
            for c in range(3):
                model.setItem(r, c, QStandardItem(str(row[c])))
        view.setModel(model)
        view.grab()

    return repeat(one, n, warmup=5)


class WindowedModel(QAbstractTableModel):
    """A read-only table model over SQLite that loads one page of rows at a time."""

    PAGE = 200

    def __init__(self, con: sqlite3.Connection) -> None:
        super().__init__()
        self._con = con
        (self._count,) = con.execute("SELECT max(id) FROM customer").fetchone()
        self._pages: dict[int, list[tuple[Any, ...]]] = {}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        """Number of rows (the table's size, no rows loaded)."""
        return 0 if parent is not None and parent.isValid() else int(self._count)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        """Three columns: id, name, number."""
        return 3

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Cell text, loading the page that holds the row on demand."""
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        page_no = index.row() // self.PAGE
        page = self._pages.get(page_no)
        if page is None:
            first = page_no * self.PAGE + 1
            page = self._con.execute(
                "SELECT customer_id, name, msisdn FROM customer WHERE id >= ? ORDER BY id LIMIT ?",
                (first, self.PAGE),
            ).fetchall()
            self._pages[page_no] = page
        offset = index.row() % self.PAGE
        return page[offset][index.column()] if offset < len(page) else None


def floor_windowed(con: sqlite3.Connection, n: int) -> Stat:
    """Windowed model over the whole customer table: new model + first screen painted."""
    qt_app()
    view = _fixed_table()
    view.show()

    def one(_: int) -> None:
        view.setModel(WindowedModel(con))
        view.grab()

    return repeat(one, n, warmup=2)


def spawn_shown(
    code: str, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[float, int]:
    """Run ``code`` in a fresh Python; returns (seconds from spawn to ``SHOWN``, RSS bytes).

    The child prints ``SHOWN <epoch seconds> RSS <bytes>`` once its window is shown.
    """
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    start = time.time()
    proc = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith("SHOWN "):
            parts = line.split()
            return float(parts[1]) - start, int(parts[3])
    msg = f"child did not show a window (exit {proc.returncode}): {proc.stderr.strip()[-400:]}"
    raise RuntimeError(msg)
