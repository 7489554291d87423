"""P10 claims under 50 concurrent agents and P12 service capacity, on SQLite and PostgreSQL.

Ours: ``agentdesk-sync serve`` on loopback over the seeded store (the embedded SQLite default,
and a throwaway PostgreSQL cluster with ``fsync`` on), driven by long-lived ``httpx`` clients in
threads. Floors: the same statements written by hand with raw ``sqlite3`` / psycopg.
"""

from __future__ import annotations

from typing import Any

from bench import product as prod
from bench.context import Ctx, NotReady, metric
from bench.floors import floor_ledger_sqlite, floor_upsert_sqlite
from bench.netfloors import floor_ledger_pg, floor_upsert_pg
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


def p10(ctx: Ctx) -> Row:
    """P10: acquire a claim before dialling, p95 under 50 concurrent agents."""
    row = Row("P10", "claim under 50 agents", "≤ 20 ms p95")
    per_agent = 10 if ctx.quick else 60
    ctx.status("floor: raw upserts, 50 threads (SQLite)")
    floor_sq = floor_upsert_sqlite(ctx.scratch, 50, per_agent, ctx.customers)
    pg = _pg(ctx)
    floor_pg = None
    if pg is not None:
        ctx.status("floor: raw upserts, 50 connections (PG)")
        floor_pg = floor_upsert_pg(pg.conninfo(), 50, per_agent, ctx.customers)  # type: ignore[attr-defined]
    ours_sq = ours_pg = None
    notes = [f"50 threads × {per_agent} claim+release, random customers"]
    try:
        ctx.status("ours: claims, embedded SQLite")
        ours_sq = prod.claim_latency(ctx, "sqlite", 50, per_agent)
        if pg is not None:
            ctx.status("ours: claims, PostgreSQL")
            ours_pg = prod.claim_latency(ctx, "postgresql", 50, per_agent)
    except NotReady as exc:
        row.missing = True
        notes = [f"not implemented yet: {exc}"]
    if pg is None:
        notes.append("PostgreSQL could not start")
    _pg_size_note(ctx, notes)
    for backend in ("sqlite", "postgresql"):
        answers = ctx.cache.get(f"claim-answers-{backend}")
        if answers:
            notes.append(f"{backend}: " + ", ".join(f"{n} {k}" for k, n in sorted(answers.items())))
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
    notes = [f"{prod.LOAD_CLIENTS} clients, 1 contact per push, {seconds:.0f} s each; "
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
        load = ctx.cache.get(f"load-{backend}")
        if load:
            notes.append(f"{backend}: {load['applied']} of {load['requests']} pushes applied, "
                         f"{load['busy']} answered 503")  # fmt: skip
    metrics += _rate_metrics("SQLite", ours_sq, fl_sq.n / fl_sq.total, fl_sq.median)
    if fl_pg is not None:
        metrics += _rate_metrics("PG", ours_pg, fl_pg.n / fl_pg.total, fl_pg.median)
    else:
        row.missing = True
        notes.append("PostgreSQL could not start")
    row.metrics = metrics
    row.note = "; ".join(notes)
    return row
