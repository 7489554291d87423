"""Adapters to the product over the network: push, first sync, propagation, claims, load.

Clients are the product's own (``AuthService`` + ``build_services`` + ``SyncEngine``), the
service is ``agentdesk-sync serve`` on loopback. The concurrent agents of P10 and P12 are an
open-loop load from a separate process (:mod:`bench.loadgen`) speaking the product's wire
format, so that generating load does not take the CPU the service needs.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.client import (
    Client,
    cached_client_db,
    client_cache,
    open_client,
    remove_db,
    require_engine,
    service_for,
    sqlite_service,
)
from bench.context import Ctx, NotReady, product
from bench.measure import Stat, stat_of
from bench.service import PASSWORD
from bench.settle import settle

__all__ = [
    "LOAD_CLIENTS",
    "PACE_S",
    "SCOPE",
    "claim_latency",
    "contact_load",
    "first_sync_scope",
    "full_first_sync",
    "online_client",
    "propagation_samples",
    "push_rate",
]

LOAD_CLIENTS = 50  # P12: agents (devices) sharing the offered contact rate
LOAD_RATE = 500.0  # P12: contacts/s offered in total (open loop, one contact per push)
# P12: the share of outbound calls (marketing: checked against the caps with the customer's
# attributes and 90-day history); the rest are inbound calls (the policy checks only the fence)
OUTBOUND_SHARE = 0.5
CLAIM_RATE = 1.0  # P10: claims/s per agent (open loop, Poisson)
WARMUP_S = 2.0
PROPAGATION_WAIT = 10.0
# P9: samples start this far apart. A device pushes the first write after a quiet spell at once,
# but a second write less than the scheduler's debounce (1 s) after a cycle waits for the end of
# it, by design; an agent does not log contacts a fraction of a second apart.
PACE_S = 1.2
RULES_WAIT = 30.0


def online_client(ctx: Ctx, size: int | None = None) -> Client:
    """Device A: an online session on this run's copy of the synced cache."""
    size = size or ctx.customers
    key = f"online-A-{size}"
    if key not in ctx.cache:
        base = client_cache(ctx, size)
        svc = sqlite_service(ctx, size)
        client = open_client(base.path, "bench_cc", "bench-device-A", svc.base_url)
        ctx.resource(f"client-{size}").callback(client.close)
        ctx.keep(f"client-{size}", key, client)
    return ctx.cache[key]  # type: ignore[no-any-return]


def _timed_api(engine: Any, name: str, log: list[tuple[float, float]]) -> Any:
    """Record (start, end) of every call of ``engine.api.<name>``; returns an undo function."""
    original = getattr(engine.api, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            log.append((start, time.perf_counter()))

    setattr(engine.api, name, wrapper)
    return lambda: setattr(engine.api, name, original)


def push_rate(ctx: Ctx, count: int, size: int | None = None) -> tuple[float, float]:
    """Contacts/s pushed by ``SyncEngine`` from the outbox, and the p95 of one push request.

    ``count`` outcomes are recorded offline first (not timed); then one sync cycle runs; the
    push phase is timed from the start of the cycle to the answer of its last push request.
    """
    from bench.product import cache_sample, outcome_draft

    client = online_client(ctx, size)
    engine = require_engine(client)
    sample = cache_sample(ctx, client, 500)
    ctx.status(f"recording {count:,} outcomes offline")
    for i in range(count):
        client.services.outcomes.record(outcome_draft(sample[i % len(sample)][0]))
    pushes: list[tuple[float, float]] = []
    undo = _timed_api(engine, "push", pushes)
    ctx.status(f"pushing {count:,} contacts")
    start = time.perf_counter()
    try:
        report = client.services.sync.run_once()
    finally:
        undo()
    if report.error is not None or not pushes:
        msg = f"sync cycle failed: {report.error!r} (pushed {report.pushed})"
        raise RuntimeError(msg)
    elapsed = pushes[-1][1] - start
    return report.pushed / elapsed, stat_of([b - a for a, b in pushes]).p95


SCOPE = "scope"  # resource: the cache P8's first sync fills, device B of P9


def _scope_path(ctx: Ctx) -> Path:
    return ctx.scratch / "scope" / "bench_scope.db"


def first_sync_scope(ctx: Ctx, budget: float | None) -> tuple[float, int, str]:
    """First sync of the ~100 k-customer scope into a fresh cache, login included.

    The cycle is cancelled after ``budget`` seconds (the engine stops after its current
    request); then the figure is a lower bound and the returned text says how far it got. The
    cache stays (resource :data:`SCOPE`) as P9's device B; a cancelled sync resumes there.

    Returns:
        (seconds, changes pulled, "" when complete or a sentence on the progress).
    """
    ctx.release(SCOPE)
    path = _scope_path(ctx)
    remove_db(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ctx.resource(SCOPE).callback(remove_db, path)
    svc = sqlite_service(ctx, ctx.customers)
    # the store copy and earlier rows leave gigabytes dirty: the cache's commits would wait
    # behind their writeback (bench/settle.py)
    ctx.cache["p8-settle"] = settle().note()
    ctx.status("first sync of the 100 k scope")
    cancel = threading.Event()
    timer = threading.Timer(budget, cancel.set) if budget is not None else None
    start = time.perf_counter()
    if timer is not None:
        timer.start()
    client = open_client(path, "bench_scope", "bench-device-P8", svc.base_url)
    try:
        report = client.services.sync.run_once(cancel)
        elapsed = time.perf_counter() - start
        snap = client.services.sync.status.snapshot
    finally:
        if timer is not None:
            timer.cancel()
        client.close()
    ctx.keep(SCOPE, "scope-path", path)
    if report.error is not None:
        msg = f"first sync failed: {report.error!r}"
        raise RuntimeError(msg)
    if not report.cancelled:
        return elapsed, int(report.pulled), ""
    total = int(getattr(snap, "snapshot_total", 0))
    done = int(getattr(snap, "snapshot_done", 0))
    where = f"{done:,} of {total:,} snapshot rows" if total else f"{report.pulled:,} changes"
    return elapsed, int(report.pulled), f"stopped after {elapsed:.0f} s at {where}"


def full_first_sync(ctx: Ctx) -> tuple[float, int]:
    """Seconds the first sync of the whole data set took when the cache was built, and how many
    changes it pulled."""
    _path, info = cached_client_db(ctx, ctx.customers)
    return float(info["seconds"]), int(info["pulled"])


def _device_b(ctx: Ctx) -> Client:
    """Device B: the cache P8's first sync filled (``bench_scope``, ~100 k customers).

    Reusing it spares a copy of the whole synced cache; when P8 did not run, the same first
    sync fills it now (untimed).
    """
    if "scope-path" not in ctx.cache:
        ctx.status("first sync of the 100 k scope for device B (untimed)")
        first_sync_scope(ctx, None)
    path: Path = ctx.cache["scope-path"]
    svc = sqlite_service(ctx)
    client = open_client(path, "bench_scope", "bench-device-P8", svc.base_url)
    ctx.resource(SCOPE).callback(client.close)
    return client


def _seen(db: Any, contact_id: str) -> bool:
    with db.reader() as conn:
        row = conn.execute("SELECT 1 FROM contact WHERE contact_id = ?", (contact_id,)).fetchone()
    return row is not None


def propagation_samples(ctx: Ctx, n: int) -> list[float]:
    """Seconds from ``OutcomeService.record`` on A to the contact in B's cache, ``n`` times.

    Both devices run the product's ``SyncScheduler`` with its defaults: A syncs after a local
    write (debounced), B wakes on the ``/v1/events`` SSE notice and pulls. Samples start
    :data:`PACE_S` apart.
    """
    from bench.product import cache_sample, outcome_draft

    with product("agentdesk.sync.SyncScheduler"):
        from agentdesk.sync.scheduler import SyncScheduler
    device_a, device_b = online_client(ctx), _device_b(ctx)
    device_b.services.sync.run_once()  # finish a cut snapshot, catch up with what was pushed
    sched_a = SyncScheduler(require_engine(device_a))
    sched_b = SyncScheduler(require_engine(device_b))
    arrived = threading.Event()
    waiting: dict[str, str] = {}

    def on_b_report(_report: Any) -> None:
        cid = waiting.get("id")
        if cid and _seen(device_b.services.db, cid):
            arrived.set()

    sched_b.add_listener(on_b_report)
    sched_a.start()
    sched_b.start()
    samples: list[float] = []
    sample = cache_sample(ctx, device_b, 500)  # customers both devices hold
    try:
        time.sleep(1.0)  # let B's event stream connect (not part of any sample)
        start = -PACE_S
        for i in range(n):
            arrived.clear()
            time.sleep(max(0.0, start + PACE_S - time.perf_counter()))  # pacing, not timed
            start = time.perf_counter()
            saved = device_a.services.outcomes.record(outcome_draft(sample[(i * 7) % 500][0]))
            waiting["id"] = saved.contact_id
            sched_a.notify_local_write()
            if not arrived.wait(PROPAGATION_WAIT):
                samples.append(time.perf_counter() - start)
                ctx.cache["p9-timeout"] = True  # stop: further samples would only be slower
                break
            samples.append(time.perf_counter() - start)
            ctx.tick()
    finally:
        sched_a.stop(5)
        sched_b.stop(5)
    return samples


def _customer_ids(ctx: Ctx, k: int) -> list[str]:
    from bench.dataset import central_db

    if "central-ids" not in ctx.cache:
        con = sqlite3.connect(f"file:{central_db(ctx, ctx.customers)}?mode=ro", uri=True)
        try:
            ctx.cache["central-ids"] = [
                r[0] for r in con.execute("SELECT customer_id FROM customer")
            ]
        finally:
            con.close()
    ids = ctx.cache["central-ids"]
    rng = random.Random(ctx.seed + 10)
    return [ids[rng.randrange(len(ids))] for _ in range(k)]


def _rules_all_day(ctx: Ctx, backend: str, base_url: str, db_url: str) -> None:
    """Give the run's store a rule set without quiet hours, once per backend.

    The service reads the newest rule set; the bench waits (bounded) until the eligibility of
    an outbound call no longer names quiet hours, so a claim is judged by the same rules at
    any hour of the day in China.
    """
    key = f"all-day-{backend}"
    if key in ctx.cache:
        return
    from bench.allday import install_all_day_rules

    with product("agentdesk.sync.ApiClient"):
        from agentdesk.sync.client import ApiClient
    install_all_day_rules(db_url)
    probe = _customer_ids(ctx, 1)[0]
    api = ApiClient(base_url)
    try:
        api.login("bench_a00", PASSWORD, "bench-rules-probe")
        deadline = time.monotonic() + RULES_WAIT
        while True:
            answer = api.eligibility(probe, "outbound_call")
            quiet = [r for r in answer.reasons if "quiet" in r.code]
            if not quiet:
                break
            if time.monotonic() > deadline:
                msg = f"the service still applies quiet hours {RULES_WAIT:.0f} s after the update"
                raise RuntimeError(msg)
            time.sleep(0.5)
    finally:
        api.close()
    ctx.cache[key] = True


def _load(ctx: Ctx, base_url: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run :mod:`bench.loadgen` in its own process against ``base_url`` and return its result."""
    from bench.dataset import AGENTS

    port = int(base_url.rsplit(":", 1)[1])
    agents = int(spec.pop("agents"))
    if agents > AGENTS:
        msg = f"the data set has {AGENTS} load agents, not {agents}"
        raise ValueError(msg)
    full = {
        "host": "127.0.0.1",
        "port": port,
        "usernames": [f"bench_a{k:02d}" for k in range(agents)],
        "password": PASSWORD,
        "customers": _customer_ids(ctx, 5_000),
        "seed": ctx.seed,
        "warmup_s": WARMUP_S,
        **spec,
    }
    trace_dir = os.environ.get("AGENTDESK_BENCH_TRACE")  # a folder: dump each request's timing
    if trace_dir:
        full["trace"] = True
    proc = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"], input=json.dumps(full), capture_output=True,
        text=True, cwd=ctx.repo, timeout=float(spec["seconds"]) + 600, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        msg = f"load generator failed: {proc.stderr.strip()[-800:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(proc.stdout)
    if trace_dir:
        out = Path(trace_dir) / f"{spec['mode']}-{int(result['t0_wall'])}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"t0_wall": result.pop("t0_wall"),
                                   "trace": result.pop("trace"), "spec": spec}))  # fmt: skip
    return result


def claim_latency(ctx: Ctx, backend: str, agents: int, seconds: float) -> Stat:
    """Latency of acquiring a claim (``POST /v1/claims``) with ``agents`` agents, open loop.

    Each agent claims a random customer at Poisson arrivals of :data:`CLAIM_RATE` per second
    and releases a granted claim at once; the latency runs from the scheduled arrival to the
    answer. The run's store has no quiet hours (see :func:`_rules_all_day`). The answer mix,
    achieved rate, release latency and the generator's CPU share land in ``ctx.cache``.
    """
    svc = service_for(ctx, backend)
    _rules_all_day(ctx, backend, svc.base_url, svc.db_url)
    ctx.cache[f"claim-load-settle-{backend}"] = settle().note()
    result = _load(ctx, svc.base_url, {"mode": "claims", "agents": agents, "rate": CLAIM_RATE,
                                       "seconds": seconds, "channel": "outbound_call"})  # fmt: skip
    samples = result.pop("samples")
    ctx.cache[f"claim-load-{backend}"] = result
    ctx.cache[f"claim-answers-{backend}"] = result["answers"]
    if not samples:
        raise NotReady("no claim answered")
    return stat_of(samples)


def contact_load(ctx: Ctx, backend: str, seconds: float) -> tuple[float, float, float]:
    """(applied contacts/s, median, p99) with :data:`LOAD_RATE` contacts/s offered, open loop.

    :data:`LOAD_CLIENTS` agents (one device and keep-alive connection each) push one contact
    per ``POST /v1/sync/push`` at Poisson arrivals; latency runs from the scheduled arrival to
    the answer, so a backlog shows in it. Details land in ``ctx.cache``.
    """
    svc = service_for(ctx, backend)
    _rules_all_day(ctx, backend, svc.base_url, svc.db_url)
    rate = LOAD_RATE / LOAD_CLIENTS
    ctx.cache[f"load-settle-{backend}"] = settle().note()
    spec = {"mode": "contacts", "agents": LOAD_CLIENTS, "rate": rate, "seconds": seconds,
            "outbound_share": OUTBOUND_SHARE}  # fmt: skip
    result = _load(ctx, svc.base_url, spec)
    samples = result.pop("samples")
    ctx.cache[f"load-{backend}"] = result
    if not samples:
        raise NotReady("no push answered")
    st = stat_of(samples)
    return float(result["applied_per_s"]), st.median, st.p99
