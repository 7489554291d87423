"""Supervisor view: campaign figures and conflicts as charts (pyqtgraph loaded on first show)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from agentdesk.i18n import _
from agentdesk.services import compute
from agentdesk.services.dto import AttentionItem, SupervisorStats
from agentdesk.services.figures import acceptance_rate
from agentdesk.ui import texts
from agentdesk.ui.context import UiContext
from agentdesk.ui.models.rows_model import Column
from agentdesk.ui.views.work_lists import ListTable

__all__ = ["SupervisorView"]


def _conflict_columns() -> list[Column[AttentionItem]]:
    return [
        Column(lambda: _("When"), lambda a: texts.fmt_datetime(a.created_at), 150),
        Column(lambda: _("Customer"), lambda a: a.customer_id, 90),
        Column(lambda: _("Conflict"), lambda a: texts.conflict_label(a.code), 110),
        Column(
            lambda: _("Detail"),
            lambda a: _("{staff}: {sentence}").format(
                staff=a.detail.get("staff_id") or "",
                sentence=texts.conflict_detail(a.code, a.detail),
            ),
            420,
            tooltip=lambda a: texts.conflict_detail(a.code, a.detail),
        ),
    ]


class SupervisorView(QWidget):
    """Charts on top, the latest conflicts below.

    Signals:
        sig_loaded: figures arrived and are drawn.
    """

    sig_loaded = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._stats: SupervisorStats | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.charts: Any = None
        self.conflicts = ListTable(_conflict_columns())
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.summary)
        self._layout.addWidget(self.conflicts, 1)

    def refresh(self) -> None:
        """Reload the figures on a worker."""
        self._ctx.tasks.compute(
            compute.supervisor_stats, self._ctx.session, on_done=self._on_stats, key="supervisor"
        )

    def _on_stats(self, stats: SupervisorStats) -> None:
        self._stats = stats
        if self.charts is None:
            from agentdesk.ui.charts.supervisor import SupervisorCharts

            self.charts = SupervisorCharts()
            self._layout.insertWidget(1, self.charts, 3)
        self.charts.show_stats(stats)
        self.conflicts.rows_model.set_rows(stats.recent_conflicts)
        self.retranslate()
        self.sig_loaded.emit()

    def retranslate(self) -> None:
        """Re-render in the current language."""
        stats = self._stats
        if stats is None:
            self.summary.setText(_("Loading campaign figures…"))
            return
        contacted = sum(c.contacted for c in stats.campaigns)
        accepted = sum(c.accepted for c in stats.campaigns)
        targets = sum(c.targets for c in stats.campaigns)
        conflicts = sum(stats.conflicts_by_type.values())
        self.summary.setText(
            _(
                "{campaigns} campaigns · {targets} targets · {contacted} contacted · "
                "{rate:.1%} accepted · {conflicts} conflicts"
            ).format(
                campaigns=len(stats.campaigns),
                targets=targets,
                contacted=contacted,
                rate=acceptance_rate(accepted, targets),
                conflicts=conflicts,
            )
        )
        self.conflicts.rows_model.retranslate()
