"""Adapters to the product's Qt views (offscreen): painted search list, customer view, big list.

The views are the real ones (``SearchPanel``, ``CustomerPanel``) on the real ``TaskManager``
and services; a figure runs from the call that starts the work to the widget grabbed (painted)
after the view announced its result.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from bench.client import Client
from bench.context import Ctx, product
from bench.measure import Stat, repeat

__all__ = [
    "time_list_first_screen",
    "time_open_painted",
    "time_search_painted",
    "ui_context",
]


def ui_context(ctx: Ctx, cache: Client, services: Any = None) -> Any:
    """A ``UiContext`` (task manager + services + session) like ``app.py`` builds."""
    from bench.qtfloors import qt_app

    qt_app()
    with product("agentdesk.ui.context.UiContext / agentdesk.ui.tasks.TaskManager"):
        from agentdesk.ui.context import UiContext
        from agentdesk.ui.tasks import TaskManager
    if "ui-tasks" not in ctx.cache:
        tasks = TaskManager()
        ctx.stack.callback(tasks.shutdown)
        ctx.cache["ui-tasks"] = tasks
    return UiContext(tasks=ctx.cache["ui-tasks"], services=services or cache.services,
                     session=cache.session)  # fmt: skip


def wait_signal(
    signal: Any, action: Callable[[], None], timeout_s: float = 30.0
) -> tuple[Any, ...]:
    """Run ``action`` and spin the Qt event loop until ``signal`` fires."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    got: list[tuple[Any, ...]] = []

    def on(*args: Any) -> None:
        got.append(args)
        loop.quit()

    signal.connect(on)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout_s * 1000))
    try:
        action()
        if not got:
            loop.exec()
    finally:
        timer.stop()
        signal.disconnect(on)
    if not got:
        msg = f"the view did not answer within {timeout_s:.0f} s"
        raise RuntimeError(msg)
    return got[0]


def painted(widget: Any) -> None:
    """Paint ``widget`` now (``grab``), then the repaint its update already queued.

    The shown widget repaints itself on the next turn of the event loop as well; left queued, that
    paint would run inside the next measurement's wait for its worker and delay the hand-off of
    its result (an app's keystrokes come far apart, so it never meets that). Both paints stay
    in the figure, each in the measurement whose update caused it.
    """
    from PySide6.QtCore import QCoreApplication

    widget.grab()
    QCoreApplication.processEvents()


def _search_panel(ctx: Ctx, cache: Client, services: Any = None) -> Any:
    with product("agentdesk.ui.views.search_panel.SearchPanel"):
        from agentdesk.ui.views.search_panel import SearchPanel
    panel = SearchPanel(ui_context(ctx, cache, services))
    panel.resize(900, 700)
    panel.show()
    return panel


def time_search_painted(ctx: Ctx, cache: Client, inputs: list[str]) -> Stat:
    """``SearchPanel.run_query`` → results delivered → list painted (debounce not included)."""
    panel = _search_panel(ctx, cache)

    def one(i: int) -> None:
        wait_signal(panel.sig_results, lambda: panel.run_query(inputs[i % len(inputs)]))
        painted(panel)

    try:
        return repeat(one, ctx.ui_reps, warmup=5)
    finally:
        panel.close()
        panel.deleteLater()


def time_open_painted(ctx: Ctx, cache: Client, ids: list[str]) -> Stat:
    """``CustomerPanel.open_customer`` → screen shown (``sig_opened``) → view painted."""
    with product("agentdesk.ui.views.customer_panel.CustomerPanel"):
        from agentdesk.ui.views.customer_panel import CustomerPanel
    panel = CustomerPanel(ui_context(ctx, cache))
    panel.resize(1280, 800)
    panel.show()

    def one(i: int) -> None:
        wait_signal(panel.sig_opened, lambda: panel.open_customer(ids[i % len(ids)]))
        painted(panel)

    try:
        return repeat(one, ctx.ui_reps, warmup=5)
    finally:
        panel.close()
        panel.deleteLater()


def time_list_first_screen(ctx: Ctx, cache: Client, n: int) -> Stat:
    """A list of every customer (query ``1``) in the search list: query → first screen painted.

    The app caps its result count at "1000+"; here the product's ``SearchService`` runs with
    ``count_cap=None`` so that the windowed model really holds every customer.
    """
    with product("agentdesk.services.search.SearchService"):
        from agentdesk.services.search import SearchService
    session = cache.session
    services = dataclasses.replace(
        cache.services,
        search=SearchService(cache.services.db, session.role, count_cap=None),  # type: ignore[arg-type]
    )
    panel = _search_panel(ctx, cache, services)

    def one(_: int) -> None:
        wait_signal(panel.sig_results, lambda: panel.run_query("1"))
        panel.grab()

    try:
        stat = repeat(one, n, warmup=2)
        ctx.cache["p6-rows"], ctx.cache["p6-count-s"] = _full_list(panel)
    finally:
        panel.close()
        panel.deleteLater()
    return stat


def _full_list(panel: Any) -> tuple[int, float]:
    """Rows of the list once its count has arrived, and seconds from the query to that."""
    start = time.perf_counter()
    (page,) = wait_signal(panel.sig_results, lambda: panel.run_query("1"))
    if not page.counted:  # the first screen came first; the list grows when the count arrives
        wait_signal(panel.model.rowsInserted, lambda: None, timeout_s=600)
    return int(panel.model.rowCount()), time.perf_counter() - start
