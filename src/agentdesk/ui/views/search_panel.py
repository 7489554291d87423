"""Search panel: type a phone prefix, ID number or 1+ Chinese characters; Enter opens.

Search-as-you-type goes through ``TaskManager.read(key="search")``: latest request wins, so a
slow earlier query never overwrites the result of a later one. The first screen shows the first
window of hits at once ("50+ found"); when there are more, their count runs on the task
manager's count thread and the list grows when it arrives. A new query stops the count of the
previous one, so a count over a million rows never holds up the next keystroke.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from agentdesk.i18n import _
from agentdesk.services.dto import SearchHit, SearchPage
from agentdesk.services.search import MatchCount
from agentdesk.ui.after_repaint import AfterRepaint
from agentdesk.ui.context import UiContext
from agentdesk.ui.models.search_model import SearchResultsModel
from agentdesk.ui.tasks import TaskState

log = logging.getLogger(__name__)

__all__ = ["SearchPanel"]

_DEBOUNCE_MS = 60


class SearchPanel(QWidget):
    """Search box and result list.

    Signals:
        sig_open_customer: (str) customer id chosen with Enter or double-click.
        sig_results: (SearchPage) a query finished and is shown.
    """

    sig_open_customer = Signal(str)
    sig_results = Signal(object)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.box = QLineEdit()
        self.box.setObjectName("searchBox")
        self.box.setClearButtonEnabled(True)
        self.model = SearchResultsModel(self._fetch_window, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        # always there: a result list that crosses one screen would otherwise show the bar,
        # narrow the viewport and lay out and paint the whole table a second time
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        for column, width in enumerate(SearchResultsModel.WIDTHS):
            self.table.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        self.summary = QLabel()
        self.summary.setObjectName("freshness")
        self._in_flight = False
        self._open_after = False
        self._counting: TaskState[MatchCount] | None = None
        self._count_next: str | None = None  # the query to count once the screen is painted
        # the count starts once the first screen is painted, never competing with it for CPU
        self._after_repaint = AfterRepaint(self._on_repainted, self)
        self._elapsed_ms = 0.0
        self._source = ""  # "service" / "filling": who answered the last search (docs/sync.md)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_DEBOUNCE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.box.textEdited.connect(self._on_box_text_edited)
        self.box.returnPressed.connect(self._on_box_return_pressed)
        self.box.installEventFilter(self)
        self.table.activated.connect(lambda index: self._open_row(index.row()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self.retranslate()

    # -- public --------------------------------------------------------------------------------
    def focus_search(self, text: str | None = None) -> None:
        """Focus the box (Ctrl+F / F3), optionally pre-filled and searched."""
        if text is not None:
            self.box.setText(text)
            self.run_query(text)
        self.box.setFocus()
        self.box.selectAll()

    def run_query(self, text: str) -> None:
        """Start a search now (latest request wins)."""
        query = text.strip()
        self._stop_counting()
        if not query:
            self._in_flight = False
            self.model.set_page(None)
            self.summary.clear()
            return
        search = self._ctx.services.search
        self._in_flight = True
        self._ctx.tasks.read(lambda: search.search(query), self._on_search_done, key="search")

    # -- slots ---------------------------------------------------------------------------------
    def _on_box_text_edited(self, _text: str) -> None:
        self._open_after = False
        self._timer.start()

    def _on_timer_timeout(self) -> None:
        self.run_query(self.box.text())

    def _on_box_return_pressed(self) -> None:
        """Enter opens the selected (or first) hit, waiting for a search still under way."""
        if self._timer.isActive():
            self._timer.stop()
            self.run_query(self.box.text())
        if self._in_flight:
            self._open_after = True
            return
        self._open_row(max(self.table.currentIndex().row(), 0))

    def _on_search_done(self, page: SearchPage) -> None:
        self._in_flight = False
        self.model.set_page(page)
        if page.first:
            self.table.selectRow(0)
        self._elapsed_ms = page.elapsed_ms
        self._source = "service" if page.from_service else "filling" if page.filling else ""
        self._show_total(page.total_label)
        if not page.counted:
            self._count_next = page.query
            self._after_repaint.post()
        self.sig_results.emit(page)
        if self._open_after:
            self._open_after = False
            self._open_row(0)

    def _show_total(self, label: str) -> None:
        """The result line; while a first sync fills the cache it says who answered, and its
        tooltip says what that means (docs/sync.md, "While the cache fills")."""
        found = _("{n} found in {ms:.0f} ms").format(n=label, ms=self._elapsed_ms)
        why = ""
        if self._source == "service":
            found = _("{n} found by the service in {ms:.0f} ms (first sync running)").format(
                n=label, ms=self._elapsed_ms
            )
            why = _(
                "The first sync is still filling this computer's cache, so the service "
                "answered. It matches names and numbers from their start."
            )
        elif self._source == "filling":
            found += _(" (first sync running: some may be missing)")
            why = _(
                "The first sync is still filling this computer's cache and the service cannot "
                "be reached: customers that have not arrived yet are missing."
            )
        self.summary.setText(found)
        self.summary.setToolTip(why)

    def _on_repainted(self) -> None:
        if self._count_next is not None:
            self._start_counting(self._count_next)
            self._count_next = None

    def _start_counting(self, query: str) -> None:
        search = self._ctx.services.search
        generation = self.model.generation

        def count(state: TaskState[MatchCount]) -> MatchCount:
            return search.count(query, state.cancel_event)

        self._counting = self._ctx.tasks.count(
            count,
            lambda found: self._on_count_done(generation, found),
            key="search-count",
            with_state=True,
            on_error=lambda exc: self._on_count_failed(generation, exc),
        )

    def _stop_counting(self) -> None:
        self._count_next = None
        if self._counting is not None:
            self._counting.request_interruption()
            self._counting = None

    def _on_count_done(self, generation: int, found: MatchCount) -> None:
        if generation != self.model.generation:
            return
        self._counting = None
        self.model.set_total(generation, found.count)
        self._show_total(found.label)

    def _on_count_failed(self, generation: int, exc: BaseException) -> None:
        """A count nobody waits for failed (a busy or damaged cache): no message for the user,
        the list keeps its first window and its provisional "50+"; the log says why."""
        if generation == self.model.generation:
            self._counting = None
        log.warning("search count failed; the provisional total stays", exc_info=exc)

    def _fetch_window(
        self, query: str, start: int, size: int, deliver: Callable[[list[SearchHit]], None]
    ) -> None:
        search = self._ctx.services.search
        self._ctx.tasks.read(lambda: search.window(query, start, size), deliver)

    def _open_row(self, row: int) -> None:
        customer_id = self.model.customer_id(row)
        if customer_id is not None:
            self.sig_open_customer.emit(customer_id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.box and event.type() == QEvent.Type.KeyPress:
            key = event.key() if isinstance(event, QKeyEvent) else None
            if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) and self.model.rowCount() > 0:
                self.table.setFocus()
                if not self.table.currentIndex().isValid():
                    self.table.selectRow(0)
                return True
        return super().eventFilter(watched, event)

    def retranslate(self) -> None:
        """Re-render in the current language."""
        self.box.setPlaceholderText(_("Phone, ID number or name (Ctrl+F)"))
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 4)
