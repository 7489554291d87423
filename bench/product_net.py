"""Adapters to the product over the network: push, first sync, propagation, claims, load.

Clients are the product's own (``AuthService`` + ``build_services`` + ``SyncEngine``, or
``ApiClient`` for the concurrent agents), the service is ``agentdesk-sync serve`` on loopback.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.client import (
    Client,
    cached_client_db,
    client_cache,
    open_client,
    require_engine,
    service_for,
    sqlite_service,
)
from bench.context import Ctx, NotReady, product
from bench.dataset import copy_db
from bench.measure import Stat, stat_of
from bench.service import PASSWORD

__all__ = [
    "LOAD_CLIENTS",
    "claim_latency",
    "contact_load",
    "first_sync_scope",
    "full_first_sync_seconds",
    "online_client",
    "propagation_samples",
    "push_rate",
]

LOAD_CLIENTS = 8
PROPAGATION_WAIT = 10.0


def online_client(ctx: Ctx, size: int | None = None) -> Client:
    """Device A: an online session on this run's copy of the synced cache."""
    size = size or ctx.customers
    key = f"online-A-{size}"
    if key not in ctx.cache:
        base = client_cache(ctx, size)
        svc = sqlite_service(ctx, size)
        client = open_client(base.path, "bench_cc", "bench-device-A", svc.base_url)
        ctx.stack.callback(client.close)
        ctx.cache[key] = client
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


def first_sync_scope(ctx: Ctx, budget: float) -> tuple[float, int, str]:
    """First sync of the ~100 k-customer scope into a fresh cache, login included.

    The cycle is cancelled after ``budget`` seconds (the engine stops after its current
    request); then the figure is a lower bound and the returned text says how far it got.

    Returns:
        (seconds, changes pulled, "" when complete or a sentence on the progress).
    """
    path = ctx.scratch / "p8" / "bench_scope.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    svc = sqlite_service(ctx, ctx.customers)
    ctx.status("first sync of the 100 k scope")
    cancel = threading.Event()
    timer = threading.Timer(budget, cancel.set)
    start = time.perf_counter()
    timer.start()
    client = open_client(path, "bench_scope", "bench-device-P8", svc.base_url)
    try:
        report = client.services.sync.run_once(cancel)
        elapsed = time.perf_counter() - start
        snap = client.services.sync.status.snapshot
    finally:
        timer.cancel()
        client.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    if report.error is not None:
        msg = f"first sync failed: {report.error!r}"
        raise RuntimeError(msg)
    if not report.cancelled:
        return elapsed, int(report.pulled), ""
    total = int(getattr(snap, "snapshot_total", 0))
    done = int(getattr(snap, "snapshot_done", 0))
    where = f"{done:,} of {total:,} snapshot rows" if total else f"{report.pulled:,} changes"
    return elapsed, int(report.pulled), f"stopped after {elapsed:.0f} s at {where}"


def full_first_sync_seconds(ctx: Ctx) -> float | None:
    """Seconds the first sync of the whole data set took when the cache was built."""
    _path, info = cached_client_db(ctx, ctx.customers)
    return float(info["seconds"])


def _device_b(ctx: Ctx) -> Client:
    src, _info = cached_client_db(ctx, ctx.customers)
    dst = ctx.scratch / "client-B" / "bench_cc.db"
    dst.parent.mkdir(exist_ok=True)
    ctx.status("copying the cache for device B")
    copy_db(src, dst)
    svc = sqlite_service(ctx)
    client = open_client(dst, "bench_cc", "bench-device-B", svc.base_url)
    ctx.stack.callback(client.close)
    return client


def _seen(db: Any, contact_id: str) -> bool:
    with db.reader() as conn:
        row = conn.execute("SELECT 1 FROM contact WHERE contact_id = ?", (contact_id,)).fetchone()
    return row is not None


def propagation_samples(ctx: Ctx, n: int) -> list[float]:
    """Seconds from ``OutcomeService.record`` on A to the contact in B's cache, ``n`` times.

    Both devices run the product's ``SyncScheduler`` with its defaults: A syncs after a local
    write (debounced), B wakes on the ``/v1/events`` SSE notice and pulls.
    """
    from bench.product import cache_sample, outcome_draft

    with product("agentdesk.sync.SyncScheduler"):
        from agentdesk.sync.scheduler import SyncScheduler
    device_a, device_b = online_client(ctx), _device_b(ctx)
    device_b.services.sync.run_once()  # catch up with everything pushed so far
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
    sample = cache_sample(ctx, device_a, 500)
    try:
        time.sleep(1.0)  # let B's event stream connect (not part of any sample)
        for i in range(n):
            arrived.clear()
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


def _agent_api(base_url: str, k: int) -> Any:
    with product("agentdesk.sync.ApiClient"):
        from agentdesk.sync.client import ApiClient
        from agentdesk.sync.errors import ServerBusy
    api = ApiClient(base_url)
    for attempt in range(20):  # setup, not measured: the service may answer 503 while busy
        try:
            api.login(f"bench_a{k:02d}", PASSWORD, f"bench-agent-{k:02d}")
            break
        except ServerBusy:
            if attempt == 19:
                raise
            time.sleep(0.5)
    return api


def _agents(base_url: str, n: int) -> list[Any]:
    """``n`` logged-in agent clients, one login after the other (setup, not timed).

    Concurrent logins made the embedded-SQLite service answer 503 "database unavailable"
    (2026-11-26), so the setup logs in sequentially.
    """
    return [_agent_api(base_url, k) for k in range(n)]


def _run_agents(agents: int, work: Any) -> None:
    errors: list[BaseException] = []

    def wrapped(k: int) -> None:
        try:
            work(k)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(k,)) for k in range(agents)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


def claim_latency(ctx: Ctx, backend: str, agents: int, per_agent: int) -> Stat:
    """``ApiClient.acquire_claim`` latency with ``agents`` concurrent logged-in agents."""
    svc = service_for(ctx, backend)
    ids = _customer_ids(ctx, agents * per_agent)
    apis = _agents(svc.base_url, agents)
    samples: list[float] = []
    answers: dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(agents)

    def agent(k: int) -> None:
        api, local, seen = apis[k], [], []
        barrier.wait()
        for j in range(per_agent):
            start = time.perf_counter()
            try:
                granted = api.acquire_claim(ids[k * per_agent + j], "outbound_call")
            except Exception as exc:  # held by another agent or refused: still an answer
                granted, kind = None, type(exc).__name__
            else:
                kind = "granted"
            local.append(time.perf_counter() - start)
            seen.append(kind)
            if granted is not None:
                api.release_claim(granted.claim_id)
        with lock:
            samples.extend(local)
            for kind in seen:
                answers[kind] = answers.get(kind, 0) + 1

    try:
        _run_agents(agents, agent)
    finally:
        for api in apis:
            api.close()
    ctx.cache[f"claim-answers-{backend}"] = answers
    return stat_of(samples)


def _contact_item(customer_id: str, seq: int, staff: str) -> Any:
    with product("agentdesk.store.outbox.contact_payload / agentdesk.protocol.PushItem"):
        from agentdesk.domain import Channel, Contact, ResultCode
        from agentdesk.protocol import PushItem
        from agentdesk.store.outbox import contact_payload
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    cid = str(uuid.uuid4())
    contact = Contact(contact_id=cid, customer_id=customer_id, channel=Channel.INBOUND_CALL,
                      started_at=now - timedelta(minutes=2), ended_at=now,
                      result_code=ResultCode.REACHED_NO_OFFER, staff_id=staff)  # fmt: skip
    return PushItem(id=cid, seq=seq, kind="contact", schema=1, payload=contact_payload(contact))


def contact_load(ctx: Ctx, backend: str, seconds: float) -> tuple[float, float, float]:
    """(contacts/s, median, p99) of one-contact pushes by ``LOAD_CLIENTS`` concurrent agents."""
    svc = service_for(ctx, backend)
    ids = _customer_ids(ctx, 5_000)
    apis = _agents(svc.base_url, LOAD_CLIENTS)
    from agentdesk.sync.errors import ServerBusy

    samples: list[float] = []
    done, busy = [0], [0]
    lock = threading.Lock()
    barrier = threading.Barrier(LOAD_CLIENTS)
    end_at = [0.0]

    def agent(k: int) -> None:
        api, local, ok = apis[k], [], 0
        barrier.wait()
        end = end_at[0] or time.perf_counter() + seconds
        end_at[0] = end
        seq = 0
        while time.perf_counter() < end:
            seq += 1
            item = _contact_item(ids[(k * 997 + seq) % len(ids)], seq, f"bench_a{k:02d}")
            start = time.perf_counter()
            try:
                answer = api.push(f"bench-agent-{k:02d}", [item])
            except ServerBusy:  # a 503 is an answer too: counted, not applied
                local.append(time.perf_counter() - start)
                busy[0] += 1
                continue
            local.append(time.perf_counter() - start)
            ok += sum(1 for r in answer.results if r.status.startswith("applied"))
        with lock:
            samples.extend(local)
            done[0] += ok

    start = time.perf_counter()
    try:
        _run_agents(LOAD_CLIENTS, agent)
    finally:
        for api in apis:
            api.close()
    elapsed = time.perf_counter() - start
    if not samples:
        raise NotReady("no push answered")
    st = stat_of(samples)
    ctx.cache[f"load-{backend}"] = {"requests": len(samples), "applied": done[0], "busy": busy[0]}
    return done[0] / elapsed, st.median, st.p99
