"""Today's visit plan as an editable, reorderable table model (keyboard and drag and drop).

Rows are :class:`VisitEntry` DTOs. Reordering goes through :meth:`VisitPlanModel.moveRows`
(``beginMoveRows``/``endMoveRows``), so selections and persistent indexes follow the moved
visit. A drag carries only the source row; a drop moves it and returns False, so the view does
not also delete the dragged row. Every edit emits ``sig_edited`` for the view to save.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal

from agentdesk.services.dto import VisitEntry
from agentdesk.ui.models.rows_model import Column, RowsModel

__all__ = ["MIME_TYPE", "VisitPlanModel"]

MIME_TYPE = "application/x-agentdesk-visit-row"
_Index = QModelIndex | QPersistentModelIndex


class VisitPlanModel(RowsModel[VisitEntry]):
    """The day's visits in visiting order.

    Signals:
        sig_edited: the order or the membership changed (not emitted by :meth:`set_rows`).
    """

    sig_edited = Signal()

    def __init__(self, columns: Sequence[Column[VisitEntry]], parent: object | None = None) -> None:
        super().__init__(columns, parent)

    # -- editing -------------------------------------------------------------------------------
    def customer_ids(self) -> list[str]:
        """The plan's customers in order."""
        return [e.customer_id for e in self.rows()]

    def contains(self, customer_id: str) -> bool:
        """Whether the customer is already planned."""
        return customer_id in self.customer_ids()

    def append(self, entry: VisitEntry) -> bool:
        """Add a visit at the end; False when the customer is already planned."""
        if self.contains(entry.customer_id):
            return False
        end = self.rowCount()
        self.beginInsertRows(QModelIndex(), end, end)
        self._rows.append(entry)
        self.endInsertRows()
        self.sig_edited.emit()
        return True

    def remove(self, row: int) -> VisitEntry | None:
        """Take the visit on ``row`` out of the plan."""
        if not 0 <= row < self.rowCount():
            return None
        self.beginRemoveRows(QModelIndex(), row, row)
        entry = self._rows.pop(row)
        self.endRemoveRows()
        self.sig_edited.emit()
        return entry

    def move(self, row: int, to: int) -> bool:
        """Move the visit on ``row`` so that it ends up on row ``to``."""
        if not 0 <= row < self.rowCount() or not 0 <= to < self.rowCount() or row == to:
            return False
        child = to + 1 if to > row else to  # Qt's destination is "insert before this row"
        return self.moveRows(QModelIndex(), row, 1, QModelIndex(), child)

    def moveRows(
        self,
        sourceParent: _Index,
        sourceRow: int,
        count: int,
        destinationParent: _Index,
        destinationChild: int,
    ) -> bool:
        if sourceParent.isValid() or destinationParent.isValid() or count != 1:
            return False
        if not 0 <= sourceRow < self.rowCount() or not 0 <= destinationChild <= self.rowCount():
            return False
        if destinationChild in (sourceRow, sourceRow + 1):
            return False
        if not self.beginMoveRows(
            sourceParent, sourceRow, sourceRow, destinationParent, destinationChild
        ):
            return False
        entry = self._rows.pop(sourceRow)
        self._rows.insert(
            destinationChild - 1 if destinationChild > sourceRow else destinationChild, entry
        )
        self.endMoveRows()
        self.sig_edited.emit()
        return True

    # -- drag and drop -------------------------------------------------------------------------
    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsDropEnabled

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        if rows:
            data.setData(MIME_TYPE, str(rows[0]).encode())
        return data

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        return data.hasFormat(MIME_TYPE) and action == Qt.DropAction.MoveAction

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        try:
            source = int(bytes(data.data(MIME_TYPE).data()).decode())
        except ValueError:
            return False
        if row < 0:  # dropped onto a row (take its place) or below the last one
            row = parent.row() if parent.isValid() else self.rowCount()
        self.moveRows(QModelIndex(), source, 1, QModelIndex(), row)
        return False  # moved here; the view must not remove the dragged row as well
