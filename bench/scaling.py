"""Scaling: search, open customer, push and pull at 10 k, 100 k (and 1 M in a full run).

Each size has its own cached data set. The table goes under the run's section in RESULTS.md and
the plot to ``bench/scaling.png`` (pyqtgraph's exporter, offscreen). A product part that does
not exist yet leaves its cells empty and says so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench import product as prod
from bench.context import Ctx, NotReady
from bench.floors import connect_ro, floor_open, floor_phone_search, sample_customers
from bench.report import fmt_value

__all__ = ["measure_own_size", "run_scaling"]

OPS = ("search", "open", "push", "pull")


def _sizes(ctx: Ctx) -> tuple[list[int], list[int]]:
    """Sizes to measure, and sizes skipped because their data set is not prepared yet."""
    sizes = [10_000, 100_000]
    if not ctx.quick:
        sizes.append(1_000_000)
    sizes = [s for s in sizes if s <= max(ctx.customers, 100_000)]
    ready = [s for s in sizes if s == ctx.customers or _prepared(ctx, s)]
    return ready, [s for s in sizes if s not in ready]


def _prepared(ctx: Ctx, size: int) -> bool:
    info = ctx.data_dir(size, create=False) / "client.json"
    return info.exists() and bool(json.loads(info.read_text()).get("complete"))


def _floor_figures(ctx: Ctx, size: int) -> dict[str, float]:
    con = connect_ro(ctx.floor_db(size))
    try:
        sample = sample_customers(con, 200, ctx.seed)
        prefixes = [m[: 4 + i % 4] for i, (_c, m, _n) in enumerate(sample)]
        search = floor_phone_search(con, prefixes, 200)
        opened = floor_open(con, [c for c, _m, _n in sample], 200)
    finally:
        con.close()
    return {"search": search.median, "open": opened.median}


def _ours_figures(ctx: Ctx, size: int) -> tuple[dict[str, float], str]:
    if f"scaling-{size}" in ctx.cache:
        return ctx.cache[f"scaling-{size}"]  # type: ignore[no-any-return]
    try:
        return prod.scaling_figures(ctx, size), ""
    except (NotReady, AttributeError) as exc:
        return {}, f"not implemented yet: {exc}"


def measure_own_size(ctx: Ctx) -> None:
    """Take the scaling figures at the run's own size now, while its copies are on disk.

    :func:`run_scaling` uses them at the end instead of copying the big stores again.
    """
    try:
        figures = _ours_figures(ctx, ctx.customers)
    except Exception as exc:  # a failed figure must not stop the rows after it
        figures = {}, f"error at {ctx.customers:,}: {type(exc).__name__}: {exc}"[:300]
    ctx.cache[f"scaling-{ctx.customers}"] = figures


def _seconds(value: float) -> str:
    """A decade of seconds as a tick label: 10 µs, 1 ms, 100 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale * 0.999:
            return f"{value / scale:.0f} {unit}"
    return f"{value * 1e9:.0f} ns"


def _seconds_of(key: str, value: float) -> float | None:
    """A figure as seconds for the plot (push: seconds per contact), or None when it cannot be
    drawn on a log axis (zero, negative, not a number, infinite)."""
    if not math.isfinite(value) or value <= 0:
        return None
    seconds = 1.0 / value if key == "push" else value
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def _plot(rows: dict[int, dict[str, float]], path: Path) -> bool:
    try:
        import pyqtgraph as pg
        import pyqtgraph.exporters

        from bench.qtfloors import qt_app
    except ImportError:
        return False
    if not rows:  # no size measured: nothing to plot
        return False
    qt_app()
    pg.setConfigOptions(background="w", foreground="k", antialias=True)
    plot = pg.PlotWidget(title="agentdesk scaling: medians by customers in the cache (log-log)")
    plot.setLogMode(x=True, y=True)
    plot.addLegend(offset=(-10, 150))  # right, between the fast figures and the pull
    plot.setLabel("left", "seconds")
    colours = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
    keys = sorted({k for figures in rows.values() for k in figures})
    seen: list[float] = []
    for colour, key in zip(colours, keys, strict=False):
        measured = [(s, _seconds_of(key, rows[s][key])) for s in sorted(rows) if key in rows[s]]
        points = [(s, y) for s, y in measured if y is not None]  # nothing to draw on a log axis
        if points:
            xs, ys = [s for s, _y in points], [y for _s, y in points]
            seen += ys
            name = "push (s per contact)" if key == "push" else key
            plot.plot(xs, ys, pen=pg.mkPen(colour, width=2), symbol="o", symbolPen=colour,
                      symbolBrush=colour, name=name)  # fmt: skip
    # one labelled tick per measured size and per decade of time: the automatic log ticks
    # crowded the x axis with unreadable minor labels and left decades unlabelled
    sizes = [math.log10(s) for s in sorted(rows)]
    plot.getAxis("bottom").setTicks([[(math.log10(s), f"{s:,}") for s in sorted(rows)], []])
    plot.setXRange(min(sizes) - 0.2, max(sizes) + 0.2, padding=0)  # room for the outer labels
    if seen:
        low, high = math.floor(math.log10(min(seen))), math.ceil(math.log10(max(seen)))
        plot.getAxis("left").setTicks([[(k, _seconds(10.0**k)) for k in range(low, high + 1)], []])
        plot.setYRange(low, high, padding=0.02)
    for side in ("bottom", "left"):  # every tick labelled: there are few, and none overlap
        plot.getAxis(side).setStyle(textFillLimits=[(0, 1.0)], hideOverlappingLabels=False)
    plot.getAxis("left").setWidth(70)  # "100 ms" fits: a label wider than the axis is dropped
    plot.resize(800, 500)
    pg.QtWidgets.QApplication.processEvents()  # lay the axes out at their new widths first
    exporter = pyqtgraph.exporters.ImageExporter(plot.plotItem)
    exporter.parameters()["width"] = 800
    exporter.export(str(path))
    return True


def run_scaling(ctx: Ctx, *, plot: bool = True) -> str:
    """Measure every size, plot (unless ``plot`` is false), and return the markdown table."""
    table: dict[int, dict[str, float]] = {}
    notes = set()
    sizes, skipped = _sizes(ctx)
    for size in skipped:
        notes.add(f"{size:,}: data set not prepared yet (`python -m bench --prepare --customers "
                  f"{size}`), not measured")  # fmt: skip
    for size in sizes:
        ctx.status(f"scaling: {size:,} customers")
        figures = {f"floor {k}": v for k, v in _floor_figures(ctx, size).items()}
        ours, note = _ours_figures(ctx, size)
        if size != ctx.customers:  # a smaller data set's copies go at once
            ctx.release(f"client-{size}")
            ctx.release(f"central-{size}")
        if note:
            notes.add(note)
        figures.update(ours)
        table[size] = figures
    cols = [*OPS, "floor search", "floor open"]
    lines = ["### Scaling (medians)", "", "| customers | " + " | ".join(cols) + " |",
             "|---|" + "---|" * len(cols)]  # fmt: skip
    for size, figures in table.items():
        cells = [fmt_value(figures.get(c), "rate" if c == "push" else "time",
                           "contacts" if c == "push" else "") for c in cols]  # fmt: skip
        lines.append(f"| {size:,} | " + " | ".join(cells) + " |")
    lines += [f"\n{n}" for n in sorted(notes)]
    if plot and _plot(table, ctx.repo / "bench" / "scaling.png"):
        lines.append("\nPlot: `bench/scaling.png`.")
    return "\n".join(lines)
