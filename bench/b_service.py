"""P10 claims under 50 concurrent agents and P12 service capacity, on SQLite and PostgreSQL.

Ours: ``agentdesk-sync serve`` on loopback over the seeded store (the embedded SQLite default,
and a throwaway PostgreSQL cluster with ``fsync`` on), driven by an open-loop load from a
separate process (:mod:`bench.loadgen`: asyncio, one keep-alive connection per agent, Poisson
arrivals, the product's wire structs). Latency runs from each request's scheduled arrival to its
answer. The run's store gets its rule set without quiet hours, so a claim is granted (or refused
for a real reason) at any hour in China. Floors: the same statements written by hand with raw
``sqlite3`` / psycopg.
"""

from __future__ import annotations

from typing import Any

from bench import product as prod
from bench import product_net as net
from bench.context import Ctx, NotReady, metric
from bench.floors import floor_ledger_sqlite
from bench.netfloors import floor_ledger_pg
from bench.openfloor import open_floor_upsert_pg, open_floor_upsert_sqlite
from bench.report import Metric, Row

__all__ = ["p10", "p12"]


def _pg(ctx: Ctx) -> Any:
    """The run's PostgreSQL cluster, or None when it cannot start (said in the note)."""
    from bench.pgdata import pg_cluster_of

    return pg_cluster_of(ctx)


def _pg_size_note(ctx: Ctx, notes: list[str]) -> None:
    size = ctx.cache.get("pg-size")
    if size and size != ctx.customers:
        notes.append(f"PostgreSQL store seeded with {size:,} customers (the {ctx.customers:,} "
                     "one is not prepared yet)")  # fmt: skip


def _load_note(ctx: Ctx, key: str, backend: str, what: str) -> str | None:
    load = ctx.cache.get(f"{key}-{backend}")
    if not load:
        return None
    answers = ", ".join(f"{n} {k}" for k, n in sorted(load["answers"].items()))
    note = (f"{backend}: {load['offered_per_s']:.0f} {what}/s offered, "
            f"{load['answered_per_s']:.0f}/s answered ({answers}")  # fmt: skip
    if load.get("late"):
        note += f", {load['late']} never sent within the drain time"
    note += ")"
    if load.get("release_p50") is not None:
        note += f", release p50 {load['release_p50'] * 1000:.1f} ms"
    return note + f", generator {load['generator_cpu'] * 100:.0f}% of a core"


def p10(ctx: Ctx) -> Row:
    """P10: acquire a claim before dialling, p95 under 50 concurrent agents."""
    row = Row("P10", "claim under 50 agents", "≤ 20 ms p95")
    seconds = 20.0 if ctx.quick else 60.0
    floor_s = seconds / 2 if ctx.quick else seconds / 3
    ctx.status("floor: raw upserts, 50 agents open loop (SQLite)")
    floor_sq = open_floor_upsert_sqlite(ctx.scratch, 50, net.CLAIM_RATE, floor_s, ctx.customers)
    pg = _pg(ctx)
    floor_pg = None
    if pg is not None:
        ctx.status("floor: raw upserts, 50 connections open loop (PG)")
        floor_pg = open_floor_upsert_pg(pg.conninfo(), 50, net.CLAIM_RATE, floor_s, ctx.customers)  # type: ignore[attr-defined]
    ours_sq = ours_pg = None
    notes = [
        f"open loop: 50 agents × {net.CLAIM_RATE:g} claim/s each (Poisson, "
        f"≈{50 * net.CLAIM_RATE:.0f} claims/s, far above a call centre where a call lasts "
        f"minutes), {seconds:.0f} s after {net.WARMUP_S:g} s warm-up, random customers, "
        "outbound_call, a granted claim released at once; latency = scheduled arrival → answer "
        "of POST /v1/claims; store rules without quiet hours (granted at any hour); "
        f"floor = the same arrivals for {floor_s:.0f} s, raw upsert+commit, one connection "
        "per agent (SQLite synchronous=NORMAL as the service)"
    ]
    try:
        ctx.status("ours: claims, embedded SQLite")
        ours_sq = prod.claim_latency(ctx, "sqlite", 50, seconds)
        if pg is not None:
            ctx.status("ours: claims, PostgreSQL")
            ours_pg = prod.claim_latency(ctx, "postgresql", 50, seconds)
    except NotReady as exc:
        row.missing = True
        notes = [f"not implemented yet: {exc}"]
    if pg is None:
        notes.append("PostgreSQL could not start")
    _pg_size_note(ctx, notes)
    for backend in ("sqlite", "postgresql"):
        note = _load_note(ctx, "claim-load", backend, "claims")
        if note:
            notes.append(note)
    row.metrics = [metric("SQLite", ours_sq, floor_sq, 0.020)]
    if pg is not None:
        row.metrics.append(metric("PG", ours_pg, floor_pg, 0.020))
    row.note = "; ".join(notes)
    return row


def _rate_metrics(label: str, ours: tuple[float, float, float] | None, floor_rate: float,
                  floor_median: float) -> list[Metric]:  # fmt: skip
    rate, p50, p99 = ours if ours is not None else (None, None, None)
    return [
        Metric(
            f"{label} tx/s", rate, None, floor_rate, 500, kind="rate", judged="median", unit="tx"
        ),
        Metric(f"{label} latency", p50, p99, floor_median, 0.050, judged="p99"),
    ]


def p12(ctx: Ctx) -> Row:
    """P12: contact transactions/s sustained with p99, embedded SQLite and PostgreSQL."""
    row = Row("P12", "service capacity", "≥ 500 tx/s, p99 ≤ 50 ms, SQLite and PG")
    seconds = 8.0 if ctx.quick else 30.0
    ctx.status("floor: raw ledger transactions (SQLite)")
    fl_sq = floor_ledger_sqlite(ctx.scratch, seconds / 2, ctx.tick)
    metrics = []
    notes = [f"open loop: {net.LOAD_RATE:.0f} contacts/s offered by {net.LOAD_CLIENTS} agents "
             f"(Poisson, {net.LOAD_RATE / net.LOAD_CLIENTS:g}/s each, one device and connection "
             f"each), 1 contact per push, {seconds:.0f} s after {net.WARMUP_S:g} s warm-up; "
             "tx/s = contacts applied per second achieved; latency = scheduled arrival → answer; "
             "floor = one connection, raw ledger+cap+change log"]  # fmt: skip
    ours_sq = ours_pg = None
    pg = _pg(ctx)
    fl_pg = None
    if pg is not None:
        ctx.status("floor: raw ledger transactions (PG)")
        fl_pg = floor_ledger_pg(pg.conninfo(), seconds / 2, ctx.tick)  # type: ignore[attr-defined]
    try:
        ctx.status("ours: contact load, embedded SQLite")
        ours_sq = prod.contact_load(ctx, "sqlite", seconds)
        if pg is not None:
            ctx.status("ours: contact load, PostgreSQL")
            ours_pg = prod.contact_load(ctx, "postgresql", seconds)
    except NotReady as exc:
        row.missing = True
        notes = [f"not implemented yet: {exc}"]
    _pg_size_note(ctx, notes)
    for backend in ("sqlite", "postgresql"):
        note = _load_note(ctx, "load", backend, "contacts")
        if note:
            notes.append(note)
    metrics += _rate_metrics("SQLite", ours_sq, fl_sq.n / fl_sq.total, fl_sq.median)
    if fl_pg is not None:
        metrics += _rate_metrics("PG", ours_pg, fl_pg.n / fl_pg.total, fl_pg.median)
    else:
        row.missing = True
        notes.append("PostgreSQL could not start")
    row.metrics = metrics
    row.note = "; ".join(notes)
    return row
