"""Usage charts (voice, data, ARPU) for one customer. Imports pyqtgraph: import this lazily."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from agentdesk.domain import UsageMonth
from agentdesk.i18n import _
from agentdesk.services.figures import usage_series

__all__ = ["UsageCharts"]


class UsageCharts(QWidget):
    """Three small bar/line plots sharing the month axis."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        self.plots = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plots)
        self._voice = self.plots.addPlot(row=0, col=0)
        self._data = self.plots.addPlot(row=1, col=0)
        self._arpu = self.plots.addPlot(row=2, col=0)
        for plot in (self._voice, self._data, self._arpu):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()

    def show_usage(self, usage: Sequence[UsageMonth]) -> None:
        """Draw the last 12 months."""
        series = usage_series(usage)
        xs = list(range(len(series.months)))
        ticks = [[(i, m[2:]) for i, m in enumerate(series.months)]]
        specs = (
            (self._voice, series.voice_min, _("Voice (min)"), (9, 105, 218)),
            (self._data, series.data_gb, _("Data (GB)"), (26, 127, 55)),
            (self._arpu, series.arpu, _("ARPU (¥)"), (154, 103, 0)),
        )
        for plot, values, title, colour in specs:
            plot.clear()
            plot.setTitle(title, size="9pt")
            plot.getAxis("bottom").setTicks(ticks)
            if xs:
                plot.addItem(pg.BarGraphItem(x=xs, height=list(values), width=0.6, brush=colour))
