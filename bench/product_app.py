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
from pathlib import Path

from bench.client import Client, cached_client_db, sqlite_service
from bench.context import Ctx, product
from bench.dataset import copy_db
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
    """Environment of a child app whose data folder holds a copy of the synced cache."""
    key = "app-env"
    if key not in ctx.cache:
        with product("agentdesk.app.run_gui / agentdesk.paths.Paths"):
            from agentdesk.app import run_gui  # noqa: F401
        root = ctx.scratch / "app"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BENCH_USER": "bench_cc",
               "BENCH_PASSWORD": PASSWORD, "BENCH_URL": sqlite_service(ctx).base_url}  # fmt: skip
        for name in ("data", "config", "cache", "log", "state"):
            env[f"AGENTDESK_{name.upper()}_DIR"] = str(root / name)
        probe = subprocess.run(
            [sys.executable, "-c", "from agentdesk.paths import Paths; "
             "print(Paths.from_env().user_cache_db('bench_cc'))"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        target = Path(probe.stdout.strip())
        target.parent.mkdir(parents=True, exist_ok=True)
        src, _info = cached_client_db(ctx, ctx.customers)
        ctx.status("copying the cache for the app process")
        copy_db(src, target)
        ctx.cache[key] = env
    return ctx.cache[key]  # type: ignore[no-any-return]


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
