"""P5 cold start, P6 first screen of a 1 M-row list, P11 client memory.

Ours: a fresh Python process that starts the real app on the benchmark cache and reports when
its main window is shown (and its RSS); the UI's own list model over the cache. Floors: a bare
``QMainWindow`` process, and a windowed ``QAbstractTableModel`` over the floor data set.
"""

from __future__ import annotations

from bench import product as prod
from bench.context import Ctx, NotReady, metric
from bench.measure import stat_of
from bench.report import Metric, Row

__all__ = ["p5", "p6", "p11"]


def _bare_spawns(ctx: Ctx) -> tuple[list[float], list[int]]:
    from bench.qtfloors import BARE_WINDOW, spawn_shown

    if "bare_spawns" not in ctx.cache:
        times, rss = [], []
        for _ in range(ctx.spawn_reps):
            seconds, mem = spawn_shown(BARE_WINDOW)
            times.append(seconds)
            rss.append(mem)
            ctx.tick()
        ctx.cache["bare_spawns"] = (times, rss)
    return ctx.cache["bare_spawns"]  # type: ignore[no-any-return]


def p5(ctx: Ctx) -> Row:
    """P5: cold start to a usable window with the 1 M cache."""
    row = Row("P5", "cold start to usable window", "≤ 1.5 s")
    ctx.status("floor: bare QMainWindow processes")
    floor_t, _rss = _bare_spawns(ctx)
    ours = None
    row.note = f"fresh process, spawn → main window shown, {ctx.customers:,}-customer cache"
    try:
        cache = prod.client_cache(ctx)
        ctx.status("ours: agentdesk cold starts")
        ours = prod.time_cold_start(ctx, cache)
    except NotReady as exc:
        row.missing = True
        row.note = f"not implemented yet: {exc}"
    row.metrics = [metric("start", ours, stat_of(floor_t), 1.5)]
    return row


def p6(ctx: Ctx) -> Row:
    """P6: first screen of a list over every customer of the cache."""
    from bench.qtfloors import floor_windowed

    row = Row("P6", "first screen of a 1 M-row list", "≤ 50 ms")
    ctx.status("floor: windowed model first screen")
    floor = floor_windowed(ctx.floor_con, max(20, ctx.ui_reps // 3))
    ours = None
    row.note = f"{ctx.customers:,} rows, model created → first screen painted"
    try:
        cache = prod.client_cache(ctx)
        ctx.status("ours: UI list model first screen")
        ours = prod.time_list_first_screen(ctx, cache, max(20, ctx.ui_reps // 3))
        rows, count_s = ctx.cache.get("p6-rows", 0), ctx.cache.get("p6-count-s", 0.0)
        row.note = (
            "query '1' in the search list's windowed model, query → first screen painted; "
            f"the list grew to its {rows:,} rows when the count arrived {count_s:.1f} s later"
        )
    except NotReady as exc:
        row.missing = True
        row.note = f"not implemented yet: {exc}"
    row.metrics = [metric("first screen", ours, floor, 0.050)]
    return row


def p11(ctx: Ctx) -> Row:
    """P11: client RSS with the cache open, and after opening 1 000 customers."""
    row = Row("P11", "client RSS, 1 M cache", "≤ 300 MB")
    ctx.status("floor: bare QMainWindow RSS")
    _t, rss = _bare_spawns(ctx)
    floor = float(sorted(rss)[len(rss) // 2])
    opened = after = None
    row.note = "subprocess; floor = bare PySide6 window; RSS after start and after 1 000 opens"
    try:
        cache = prod.client_cache(ctx)
        ctx.status("ours: app RSS (subprocess)")
        opened, after = prod.client_rss(ctx, cache)
    except NotReady as exc:
        row.missing = True
        row.note = f"not implemented yet: {exc}"
    row.metrics = [
        Metric("open", opened, opened, floor, 300e6, kind="bytes"),
        Metric("after 1 000", after, after, floor, 300e6, kind="bytes"),
    ]
    return row
