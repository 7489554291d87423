"""P5 and P11 on the real app: a fresh process runs ``agentdesk.app.run_gui`` on the big cache.

The child logs in with the app's own code path (``AppOptions(username, password,
service_url)``), and its ``on_ready`` callback (run once the main window is up) grabs the window,
prints ``SHOWN <epoch> RSS <bytes>``, optionally opens N customers through the services and
prints ``AFTER <bytes>``, then quits. The parent times spawn → ``SHOWN``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.client import Client, app_dirs, client_cache, sqlite_service
from bench.context import Ctx, product
from bench.measure import Stat, stat_of
from bench.service import PASSWORD

__all__ = ["client_rss", "time_cold_start"]

CHILD = """
import os, sys, time
from PySide6.QtWidgets import QApplication
from agentdesk.app import AppOptions, run_gui

def ready(desktop):
    import psutil
    desktop.window.grab()
    print(f"SHOWN {time.time()} RSS {psutil.Process().memory_info().rss}", flush=True)
    n = int(os.environ.get("BENCH_OPEN_N", "0"))
    if n:
        ids = open(os.environ["BENCH_IDS"]).read().split()
        for i in range(n):
            desktop.services.customers.open(ids[i % len(ids)])
        print(f"AFTER {psutil.Process().memory_info().rss}", flush=True)
    QApplication.quit()

options = AppOptions(username=os.environ["BENCH_USER"], password=os.environ["BENCH_PASSWORD"],
                     service_url=os.environ["BENCH_URL"], on_ready=ready, screen_pop_name="bench-"
                     + str(os.getpid()))
sys.exit(run_gui(options))
"""


def _app_env(ctx: Ctx) -> dict[str, str]:
    """Environment of a child app whose data folder holds the run's copy of the synced cache.

    The app opens the very copy the bench process uses (:func:`bench.client.app_dirs`), so no
    cache is copied for it.
    """
    with product("agentdesk.app.run_gui"):
        from agentdesk.app import run_gui  # noqa: F401
    client_cache(ctx)  # the run's copy, where the app looks for it
    dirs, _path = app_dirs(ctx, ctx.customers)
    return {**os.environ, **dirs, "QT_QPA_PLATFORM": "offscreen", "BENCH_USER": "bench_cc",
            "BENCH_PASSWORD": PASSWORD, "BENCH_URL": sqlite_service(ctx).base_url}  # fmt: skip


def _spawn(env: dict[str, str], timeout: float = 300) -> tuple[float, int, int | None]:
    start = time.time()
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                              text=True, timeout=timeout, check=False)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        msg = f"the app process did not finish within {timeout:.0f} s"
        raise RuntimeError(msg) from exc
    shown = rss = None
    after = None
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "SHOWN":
            shown, rss = float(parts[1]) - start, int(parts[3])
        elif parts and parts[0] == "AFTER":
            after = int(parts[1])
    if shown is None or rss is None:
        msg = f"the app did not show its window (exit {proc.returncode}): {proc.stderr[-600:]}"
        raise RuntimeError(msg)
    return shown, rss, after


def time_cold_start(ctx: Ctx, cache: Client) -> Stat:
    """Seconds from spawning a fresh app process to its main window shown and painted."""
    env = _app_env(ctx)
    _spawn(env)  # untimed: first start compiles translations and warms the page cache
    samples = []
    for _ in range(ctx.spawn_reps):
        seconds, _rss, _after = _spawn(env)
        samples.append(seconds)
        ctx.tick()
    return stat_of(samples)


def client_rss(ctx: Ctx, cache: Client) -> tuple[float, float]:
    """RSS of the app with the cache open, and after opening 1 000 customers."""
    from bench.product import cache_sample

    env = dict(_app_env(ctx))
    ids_file = ctx.scratch / "open-ids.txt"
    ids_file.write_text("\n".join(cid for cid, _m, _n in cache_sample(ctx, cache, 1000)))
    env |= {"BENCH_OPEN_N": "1000", "BENCH_IDS": str(ids_file)}
    _seconds, rss, after = _spawn(env, timeout=900)
    return float(rss), float(after if after is not None else rss)
