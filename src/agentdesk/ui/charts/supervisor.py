"""Supervisor charts: campaign progress, acceptance by channel, conflicts. Imports pyqtgraph."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from agentdesk.i18n import _
from agentdesk.services.dto import SupervisorStats
from agentdesk.services.figures import acceptance_rate, control_lift
from agentdesk.ui import texts

__all__ = ["SupervisorCharts"]

_BLUE, _GREEN, _AMBER, _RED = (9, 105, 218), (26, 127, 55), (154, 103, 0), (207, 34, 46)


class SupervisorCharts(QWidget):
    """Three plots: progress per campaign, lift vs control, conflicts by type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        self.plots = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plots)
        self.progress = self.plots.addPlot(row=0, col=0, colspan=2)
        self.lift = self.plots.addPlot(row=1, col=0)
        self.conflicts = self.plots.addPlot(row=1, col=1)
        for plot in (self.progress, self.lift, self.conflicts):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
        self.progress.addLegend(offset=(-10, 10))

    def show_stats(self, stats: SupervisorStats) -> None:
        """Redraw every chart."""
        self._draw_progress(stats)
        self._draw_lift(stats)
        self._draw_conflicts(stats)

    def _draw_progress(self, stats: SupervisorStats) -> None:
        plot = self.progress
        plot.clear()
        plot.setTitle(_("Campaign progress: contacted, reached, accepted"), size="9pt")
        names = [c.campaign_id for c in stats.campaigns]
        plot.getAxis("bottom").setTicks([list(enumerate(names))])
        for offset, colour, label, values in (
            (-0.25, _BLUE, _("contacted"), [c.contacted for c in stats.campaigns]),
            (0.0, _GREEN, _("reached"), [c.reached for c in stats.campaigns]),
            (0.25, _AMBER, _("accepted"), [c.accepted for c in stats.campaigns]),
        ):
            xs = [i + offset for i in range(len(values))]
            plot.addItem(pg.BarGraphItem(x=xs, height=values, width=0.24, brush=colour, name=label))

    def _draw_lift(self, stats: SupervisorStats) -> None:
        plot = self.lift
        plot.clear()
        plot.setTitle(_("Acceptance rate vs control group (pts)"), size="9pt")
        names = [c.campaign_id for c in stats.campaigns]
        plot.getAxis("bottom").setTicks([list(enumerate(names))])
        rates = [100 * acceptance_rate(c.accepted, c.targets) for c in stats.campaigns]
        lifts = [100 * (control_lift(c) or 0.0) for c in stats.campaigns]
        xs = list(range(len(names)))
        plot.addItem(
            pg.BarGraphItem(x=[x - 0.2 for x in xs], height=rates, width=0.38, brush=_GREEN)
        )
        plot.addItem(
            pg.BarGraphItem(x=[x + 0.2 for x in xs], height=lifts, width=0.38, brush=_BLUE)
        )

    def _draw_conflicts(self, stats: SupervisorStats) -> None:
        plot = self.conflicts
        plot.clear()
        plot.setTitle(_("Conflicts by type"), size="9pt")
        items = sorted(stats.conflicts_by_type.items())
        plot.getAxis("bottom").setTicks(
            [[(i, texts.conflict_label(k)) for i, (k, _v) in enumerate(items)]]
        )
        plot.addItem(
            pg.BarGraphItem(
                x=list(range(len(items))), height=[v for _k, v in items], width=0.6, brush=_RED
            )
        )
