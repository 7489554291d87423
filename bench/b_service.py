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
from bench.settle import settle

__all__ = ["BACKENDS", "p10", "p12"]


def _pg(ctx: Ctx) -> Any:
    """The run's PostgreSQL cluster, or None when it cannot start (said in the note)."""
    from bench.pgdata import pg_cluster_of

    return pg_cluster_of(ctx)


def _pg_for_floor(ctx: Ctx, out: dict[str, Any]) -> str | None:
    """The run's cluster's connection string for a floor, with the store's size kept in
    ``out``; None (and the error in ``out``) when PostgreSQL could not start."""
    pg = _pg(ctx)
    if pg is None:
        out["error"] = "PostgreSQL could not start"
        return None
    out["pg-size"] = ctx.cache.get("pg-size")
    out["pg-warm"] = ctx.cache.get("pg-warm")
    out["pg-vacuum"] = ctx.cache.get("pg-vacuum")
    return str(pg.conninfo())


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


BACKENDS = ("sqlite", "postgresql")
_LABEL = {"sqlite": "SQLite", "postgresql": "PG"}


def _part(ctx: Ctx, key: str, backend: str, measure: Any) -> dict[str, Any]:
    """Measure one backend's half of a row once (floor and ours), kept for the row."""
    store: dict[str, Any] = ctx.cache.setdefault(key, {})
    if backend not in store:
        store[backend] = measure()
    return store


def _claims(ctx: Ctx, backend: str, seconds: float, floor_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {"floor": None, "ours": None, "error": None}
    if backend == "sqlite":
        ctx.status("floor: raw upserts, 50 agents open loop (SQLite)")
        out["settle-floor"] = settle().note()
        out["floor"] = open_floor_upsert_sqlite(ctx.scratch, 50, net.CLAIM_RATE, floor_s,
                                                ctx.customers)  # fmt: skip
    else:
        conninfo = _pg_for_floor(ctx, out)
        if conninfo is None:
            return out
        ctx.status("floor: raw upserts, 50 connections open loop (PG)")
        out["settle-floor"] = settle().note()
        out["floor"] = open_floor_upsert_pg(conninfo, 50, net.CLAIM_RATE, floor_s, ctx.customers)
    try:
        ctx.status(f"ours: claims, {_LABEL[backend]}")
        out["ours"] = prod.claim_latency(ctx, backend, 50, seconds)
    except NotReady as exc:
        out["missing"] = f"not implemented yet: {exc}"
    return out


def p10(ctx: Ctx, backends: tuple[str, ...] = BACKENDS) -> Row:
    """P10: acquire a claim before dialling, p95 under 50 concurrent agents.

    Args:
        backends: the stores to measure now; the row shows every store measured so far in the
            run (a full run measures SQLite, deletes its copy, then measures PostgreSQL).
    """
    row = Row("P10", "claim under 50 agents", "≤ 20 ms p95")
    seconds = 20.0 if ctx.quick else 60.0
    floor_s = seconds / 2 if ctx.quick else seconds / 3
    parts: dict[str, Any] = {}
    for backend in backends:
        parts = _part(
            ctx, "p10-parts", backend, lambda b=backend: _claims(ctx, b, seconds, floor_s)
        )
    notes = [
        f"open loop: 50 agents × {net.CLAIM_RATE:g} claim/s each (Poisson, "
        f"≈{50 * net.CLAIM_RATE:.0f} claims/s, far above a call centre where a call lasts "
        f"minutes), {seconds:.0f} s after {net.WARMUP_S:g} s warm-up, random customers, "
        "outbound_call, a granted claim released at once; latency = scheduled arrival → answer "
        "of POST /v1/claims; store rules without quiet hours (granted at any hour); "
        f"floor = the same arrivals for {floor_s:.0f} s, raw upsert+commit, one connection "
        "per agent (SQLite synchronous=NORMAL as the service)"
    ]
    _part_notes(ctx, row, parts, notes, "claim-load", "claims")
    row.metrics = [metric(_LABEL[b], parts[b]["ours"], parts[b]["floor"], 0.020)
                   for b in BACKENDS if b in parts and parts[b]["floor"] is not None]  # fmt: skip
    row.note = "; ".join(notes)
    return row


def _part_notes(ctx: Ctx, row: Row, parts: dict[str, Any], notes: list[str], load_key: str,
                what: str) -> None:  # fmt: skip
    """Missing parts, errors, the PostgreSQL store's size and each backend's load figures."""
    for backend in BACKENDS:
        part = parts.get(backend)
        if part is None:
            row.missing = True
            notes.append(f"{_LABEL[backend]} not measured in this run")
            continue
        if part.get("missing"):
            row.missing = True
            notes.insert(0, part["missing"])
        if part.get("error"):
            row.missing = True
            notes.append(part["error"])
        size = part.get("pg-size")
        if size and size != ctx.customers:
            notes.append(f"PostgreSQL store seeded with {size:,} customers (the "
                         f"{ctx.customers:,} one is not prepared yet)")  # fmt: skip
        vacuum = part.get("pg-vacuum")
        if vacuum and vacuum["tables"]:
            notes.append(
                f"PG copy vacuumed first (the cached store was never vacuumed, so autovacuum "
                f"would visit it during the rows): VACUUM (ANALYZE) of "
                f"{', '.join(vacuum['tables'])} and CHECKPOINT, {vacuum['seconds']:.0f} s"
            )
        warm = part.get("pg-warm")
        if warm:
            notes.append(
                f"PG warmed once before its floor and ours (bench/pgdata.py warm: pg_prewarm of "
                f"the tables a claim and a push touch and their indexes, "
                f"{warm['buffers_mb']:,.0f} MB into shared_buffers, "
                f"{warm['page_cache_mb']:,.0f} MB into the page cache, {warm['seconds']:.0f} s)"
            )
        note = _load_note(ctx, load_key, backend, what)
        if note:
            notes.append(note)
        flushed = [f"floor: {part['settle-floor']}"] if part.get("settle-floor") else []
        ours = ctx.cache.get(f"{load_key}-settle-{backend}")
        if ours:
            flushed.append(f"ours: {ours}")
        if flushed:
            notes.append(f"{_LABEL[backend]} sync before each measurement ({'; '.join(flushed)})")


def _rate_metrics(label: str, ours: tuple[float, float, float] | None, floor_rate: float,
                  floor_median: float) -> list[Metric]:  # fmt: skip
    rate, p50, p99 = ours if ours is not None else (None, None, None)
    return [
        Metric(
            f"{label} tx/s", rate, None, floor_rate, 500, kind="rate", judged="median", unit="tx"
        ),
        Metric(f"{label} latency", p50, p99, floor_median, 0.050, judged="p99"),
    ]


def _contacts(ctx: Ctx, backend: str, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"floor": None, "ours": None, "error": None}
    if backend == "sqlite":
        ctx.status("floor: raw ledger transactions (SQLite)")
        out["settle-floor"] = settle().note()
        out["floor"] = floor_ledger_sqlite(ctx.scratch, seconds / 2, ctx.tick)
    else:
        conninfo = _pg_for_floor(ctx, out)
        if conninfo is None:
            return out
        ctx.status("floor: raw ledger transactions (PG)")
        out["settle-floor"] = settle().note()
        out["floor"] = floor_ledger_pg(conninfo, seconds / 2, ctx.tick)
    try:
        ctx.status(f"ours: contact load, {_LABEL[backend]}")
        out["ours"] = prod.contact_load(ctx, backend, seconds)
    except NotReady as exc:
        out["missing"] = f"not implemented yet: {exc}"
    return out


def p12(ctx: Ctx, backends: tuple[str, ...] = BACKENDS) -> Row:
    """P12: contact transactions/s sustained with p99, embedded SQLite and PostgreSQL.

    Args:
        backends: the stores to measure now (see :func:`p10`).
    """
    row = Row("P12", "service capacity", "≥ 500 tx/s, p99 ≤ 50 ms, SQLite and PG")
    seconds = 8.0 if ctx.quick else 30.0
    parts: dict[str, Any] = {}
    for backend in backends:
        parts = _part(ctx, "p12-parts", backend, lambda b=backend: _contacts(ctx, b, seconds))
    notes = [f"open loop: {net.LOAD_RATE:.0f} contacts/s offered by {net.LOAD_CLIENTS} agents "
             f"(Poisson, {net.LOAD_RATE / net.LOAD_CLIENTS:g}/s each, one device and connection "
             f"each), 1 contact per push ({net.OUTBOUND_SHARE:.0%} outbound calls, checked "
             "against the caps with the customer's history; the rest inbound), "
             f"{seconds:.0f} s after {net.WARMUP_S:g} s warm-up; "
             "tx/s = contacts applied per second achieved; latency = scheduled arrival → answer; "
             "floor = one connection, raw ledger+cap+change log"]  # fmt: skip
    _part_notes(ctx, row, parts, notes, "load", "contacts")
    for backend in BACKENDS:
        floor = parts.get(backend, {}).get("floor")
        if floor is not None:
            row.metrics += _rate_metrics(_LABEL[backend], parts[backend]["ours"],
                                         floor.n / floor.total, floor.median)  # fmt: skip
    row.note = "; ".join(notes)
    return row
