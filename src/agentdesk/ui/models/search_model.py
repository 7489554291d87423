"""Windowed table model of search results: the first window at once, rows fetched lazily.

The model never loads the whole cache. A new query brings the first window of rows; when the
query matched more, the model first holds just that window and grows (``beginInsertRows``) when
the match count (capped by the service, e.g. "1000+") arrives from the background
(:meth:`SearchResultsModel.set_total`). When the view asks for a row that is not cached, the
model asks its ``fetch_window`` callback (which runs on a worker through ``TaskManager``) for
the window around it and shows a placeholder until the rows arrive.

``data`` runs for every painted cell and role (seven roles per cell), so it answers from
strings prepared when the rows arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from agentdesk.i18n import _
from agentdesk.services.dto import SearchHit, SearchPage
from agentdesk.services.search import FIRST_WINDOW

__all__ = ["WINDOW", "SearchResultsModel"]

_Index = QModelIndex | QPersistentModelIndex
FetchWindow = Callable[[str, int, int, Callable[[list[SearchHit]], None]], None]

WINDOW = FIRST_WINDOW  # windows line up with the first one (rows 0 … WINDOW - 1)

_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_USER = int(Qt.ItemDataRole.UserRole.value)


class SearchResultsModel(QAbstractTableModel):
    """Search hits for the result list.

    Args:
        fetch_window: ``fetch_window(query, start, size, deliver)`` loads rows asynchronously
            and calls ``deliver(hits)`` on the GUI thread.
    """

    COLUMNS = ("name", "phone", "id_number", "segment", "region")
    WIDTHS = (78, 96, 140, 40, 50)

    def __init__(self, fetch_window: FetchWindow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetch_window = fetch_window
        self._query = ""
        self._count = 0
        self._rows: dict[int, SearchHit] = {}
        self._texts: dict[int, tuple[str, ...]] = {}
        self._pending: set[int] = set()
        self._generation = 0

    # -- data in -------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        """Changes with every :meth:`set_page`; :meth:`set_total` ignores an older one."""
        return self._generation

    def set_page(self, page: SearchPage | None) -> None:
        """Show a new result (None clears)."""
        self.beginResetModel()
        self._generation += 1
        self._query = page.query if page else ""
        self._count = page.total if page else 0
        self._rows = {}
        self._texts = {}
        self._store(0, page.first if page else ())
        self._pending = set()
        self.endResetModel()

    def set_total(self, generation: int, total: int) -> None:
        """The match count of the result shown since ``generation`` arrived: grow (or shrink)."""
        if generation != self._generation or total == self._count:
            return
        if total > self._count:
            self.beginInsertRows(QModelIndex(), self._count, total - 1)
            self._count = total
            self.endInsertRows()
            return
        self.beginRemoveRows(QModelIndex(), total, self._count - 1)
        for row in [r for r in self._rows if r >= total]:
            del self._rows[row]
            del self._texts[row]
        self._count = total
        self.endRemoveRows()

    def customer_id(self, row: int) -> str | None:
        """The id on ``row`` if loaded, else None."""
        hit = self._rows.get(row)
        return hit.customer_id if hit else None

    def hit(self, row: int) -> SearchHit | None:
        """The loaded hit on ``row``."""
        return self._rows.get(row)

    def cached_rows(self) -> int:
        """How many rows are loaded (tests use it to prove the model is windowed)."""
        return len(self._rows)

    def _store(self, start: int, hits: Sequence[SearchHit]) -> None:
        for offset, hit in enumerate(hits):
            row = start + offset
            self._rows[row] = hit
            texts = [str(getattr(hit, column)) for column in self.COLUMNS]
            if hit.vip:
                texts[0] = f"★ {texts[0]}"
            self._texts[row] = tuple(texts)

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if not 0 <= section < len(self.COLUMNS):
            return None
        return _column_title(self.COLUMNS[section])

    def data(self, index: _Index, role: int = _DISPLAY) -> object:
        if role in (_DISPLAY, _TOOLTIP):
            row = index.row()
            texts = self._texts.get(row)
            if texts is not None:
                return texts[index.column()]
            if not index.isValid() or not 0 <= row < self._count:
                return None
            self._request_window(row)
            return "…" if index.column() == 0 else ""
        if role == _USER:
            hit = self._rows.get(index.row())
            return hit.customer_id if hit else None
        return None

    # -- lazy fill -----------------------------------------------------------------------------
    def _request_window(self, row: int) -> None:
        start = (row // WINDOW) * WINDOW
        if start in self._pending:
            return
        self._pending.add(start)
        generation = self._generation
        size = min(WINDOW, self._count - start)
        self._fetch_window(
            self._query, start, size, lambda hits: self._on_rows_arrived(generation, start, hits)
        )

    def _on_rows_arrived(self, generation: int, start: int, hits: Sequence[SearchHit]) -> None:
        if generation != self._generation:
            return
        self._pending.discard(start)
        hits = hits[: max(0, self._count - start)]
        self._store(start, hits)
        last = start + len(hits) - 1
        if last >= start:
            self.dataChanged.emit(self.index(start, 0), self.index(last, len(self.COLUMNS) - 1))


def _column_title(column: str) -> str:
    titles = {
        "name": _("Name"),
        "phone": _("Phone"),
        "id_number": _("ID number"),
        "segment": _("Seg."),  # short: the column is 40 px wide
        "region": _("Region"),
    }
    return titles[column]
