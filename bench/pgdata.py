"""The service on PostgreSQL: a throwaway cluster (fsync on) over a seeded, cached data folder.

The first run of a size builds a cluster kept under ``.bench-data/<seed>-<size>-g<version>/pgdata``
holding the same data as that size's ``central.db`` (copied table by table with ``COPY``,
:mod:`bench.pgload`; row counts and a digest of each table's first rows are compared before the
folder is used), then stops it. Every run copies that folder into a temp folder, starts a
throwaway cluster on it (random port) and deletes it at the end, so runs never see each other's
writes.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from bench.context import Ctx
from bench.dataset import central_db
from bench.disk import folder_bytes
from bench.service import Service, serve

__all__ = [
    "DB_NAME",
    "HOT_TABLES",
    "pg_cluster_of",
    "pg_service",
    "pg_template",
    "vacuum_loaded",
    "warm",
]

DB_NAME = "agentdesk"


def pg_template(ctx: Ctx, size: int) -> Path:
    """The stopped data folder of ``size`` holding ``central.db``'s data (built once).

    Raises:
        RuntimeError: the copy does not match ``central.db`` (counts or digests differ).
    """
    from sqlalchemy import create_engine

    from bench.pgcluster import pg_cluster
    from bench.pgload import (
        LOAD_SETTINGS,
        differences,
        fingerprint,
        load_from_sqlite,
        sqlite_engine,
    )

    folder = ctx.data_dir(size)
    template = folder / "pgdata"
    info_path = folder / "pg.json"
    if info_path.exists() and json.loads(info_path.read_text()).get("complete"):
        return template
    central = central_db(ctx, size)  # first: NotReady when the generator is missing
    building = folder / "pgdata.tmp"
    shutil.rmtree(building, ignore_errors=True)
    ctx.status(f"copying the {size:,}-customer store into PostgreSQL")
    start = time.perf_counter()
    with pg_cluster(data=building, settings=LOAD_SETTINGS) as cluster:
        url = cluster.create_database(DB_NAME)
        counts = load_from_sqlite(central, url, ctx.status)
        load_s = time.perf_counter() - start
        ctx.status("comparing the two stores")
        engines: list[Any] = [sqlite_engine(central), create_engine(url)]
        try:
            prints = [fingerprint(engine) for engine in engines]
        finally:
            for engine in engines:
                engine.dispose()
    diffs = differences(*prints)
    if diffs:
        msg = f"the PostgreSQL copy of {central} differs: {'; '.join(diffs)}"
        raise RuntimeError(msg)
    os.sync()  # the build ran with fsync=off: its files reach the disk before the folder is used
    seconds = time.perf_counter() - start
    shutil.rmtree(template, ignore_errors=True)
    building.rename(template)
    size_bytes = folder_bytes(template)
    info = {"complete": True, "method": "COPY from central.db", "load_seconds": round(load_s, 1),
            "seconds": round(seconds, 1), "rows": counts, "bytes": size_bytes,
            "fingerprint": {name: list(value) for name, value in prints[1].items()}}  # fmt: skip
    info_path.write_text(json.dumps(info, indent=1))
    ctx.console.print(f"PostgreSQL copy of {size:,} customers built in {seconds:.0f} s "
                      f"({size_bytes / 1e9:.1f} GB)")  # fmt: skip
    return template


def _complete(ctx: Ctx, size: int) -> bool:
    info = ctx.data_dir(size, create=False) / "pg.json"
    return info.exists() and bool(json.loads(info.read_text()).get("complete"))


def _ready_size(ctx: Ctx) -> int:
    """The run's size, or in a quick run a smaller seeded store while the right one is missing."""
    if _complete(ctx, ctx.customers) or not ctx.quick:
        return ctx.customers
    smaller = [s for s in (10_000, 100_000) if s < ctx.customers and _complete(ctx, s)]
    return max(smaller) if smaller else ctx.customers


def pg_cluster_of(ctx: Ctx) -> Any:
    """The run's cluster (a copy of the seeded folder), or None when it cannot start."""
    if "pg" not in ctx.cache:
        from bench.context import NotReady
        from bench.pgcluster import pg_cluster

        template: Path | None = None
        size = _ready_size(ctx)
        try:
            template = pg_template(ctx, size)
        except NotReady:
            template = None
        ctx.keep("pg", "pg-size", size)
        try:
            ctx.status("copying the PostgreSQL store, starting a throwaway cluster (fsync on)")
            cluster = pg_cluster(template=template, parent=ctx.scratch)
            running = ctx.keep("pg", "pg", ctx.resource("pg").enter_context(cluster))
            ctx.keep("pg", "pg-seeded", template is not None)
        except Exception as exc:
            ctx.console.print(f"[yellow]PostgreSQL unavailable:[/yellow] {exc}")
            ctx.keep("pg", "pg", None)
        else:
            if template is not None:
                ctx.status("VACUUM of the copied tables autovacuum would visit (see bench/README)")
                ctx.keep("pg", "pg-vacuum", vacuum_loaded(running.conninfo(DB_NAME)))
                ctx.status("warming the PostgreSQL copy (pg_prewarm of the tables a claim and "
                           "a push touch)")  # fmt: skip
                ctx.keep("pg", "pg-warm", warm(running.conninfo(DB_NAME)))
    return ctx.cache["pg"]


def vacuum_loaded(conninfo: str) -> dict[str, Any]:
    """``VACUUM (ANALYZE)`` the tables autovacuum would pick now, then ``CHECKPOINT``.

    A store that was bulk loaded (or had a table rewritten by a migration) and never vacuumed
    has every table over autovacuum's insert threshold; autovacuum then reads and rewrites
    each of them, throttled, for minutes, while the rows are measured (at 1 M: customer,
    contact, usage_month, holding, several GB). docs/operations.md tells operators to run
    ``VACUUM (ANALYZE)`` once after a bulk load; this does it for the run's copy, before the
    floor and ours. A template that was vacuumed already gives an empty list here. The
    thresholds are autovacuum's own (``pg_settings``), with each table's ``reltuples``.

    Returns:
        The tables vacuumed and the seconds taken (the ``CHECKPOINT`` included).
    """
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        due = conn.execute(
            "WITH s AS (SELECT name, setting::float8 AS v FROM pg_settings WHERE name LIKE"
            " 'autovacuum_vacuum_%'),"
            " t AS (SELECT (SELECT v FROM s WHERE name = 'autovacuum_vacuum_threshold') AS dt,"
            "  (SELECT v FROM s WHERE name = 'autovacuum_vacuum_scale_factor') AS ds,"
            "  (SELECT v FROM s WHERE name = 'autovacuum_vacuum_insert_threshold') AS it,"
            "  (SELECT v FROM s WHERE name = 'autovacuum_vacuum_insert_scale_factor') AS iz)"
            " SELECT u.relname FROM pg_stat_user_tables u JOIN pg_class c ON c.oid = u.relid, t"
            " WHERE u.n_dead_tup > t.dt + t.ds * greatest(c.reltuples, 0)"
            "  OR (t.it >= 0 AND u.n_ins_since_vacuum > t.it + t.iz * greatest(c.reltuples, 0))"
            " ORDER BY pg_relation_size(u.relid) DESC"
        ).fetchall()
        tables = [str(r[0]) for r in due]
        for name in tables:
            conn.execute(f'VACUUM (ANALYZE) "{name}"'.encode())
        if tables:
            conn.execute("CHECKPOINT")
    return {"tables": tables, "seconds": time.perf_counter() - start}


# What a claim and a push read or write (with every index of each): the small tables first,
# then the customers, then the ledger. A running service has these in memory; a copy started
# a moment ago has none of them in shared_buffers.
HOT_TABLES = ("sequencer", "rule_set", "meta", "app_user", "auth_token", "portfolio", "claim",
              "mutation_receipt", "change_log", "customer", "contact")  # fmt: skip


def warm(conninfo: str, budget: float = 0.75) -> dict[str, Any]:
    """Read the hot tables and their indexes before anything is measured (floor and ours).

    Indexes first, then heaps (and their TOAST), into PostgreSQL's own buffers while they fill
    at most ``budget`` of ``shared_buffers``; what does not fit is read into the operating
    system's page cache (``pg_prewarm`` mode ``read``), as a long-running server's would be.

    Returns:
        The megabytes read into shared buffers and into the page cache, and the seconds taken.
    """
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        got = conn.execute("SELECT setting::bigint * 8192 FROM pg_settings "
                           "WHERE name = 'shared_buffers'").fetchone()  # fmt: skip
        room = int(got[0] * budget) if got else 0
        rels = conn.execute(
            "WITH hot AS (SELECT oid, relname, reltoastrelid FROM pg_class"
            "  WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
            "  AND relname = ANY(%s)),"
            " base AS (SELECT oid AS tab, relname FROM hot UNION ALL"
            "  SELECT reltoastrelid, relname FROM hot WHERE reltoastrelid <> 0)"
            " SELECT c.oid::regclass::text, pg_relation_size(c.oid), c.relkind = 'i', b.relname"
            " FROM base b JOIN pg_class c ON c.oid = b.tab"
            "  OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = b.tab)",
            (list(HOT_TABLES),),
        ).fetchall()
        order = {name: k for k, name in enumerate(HOT_TABLES)}
        rels.sort(key=lambda r: (not r[2], order[r[3]], r[1]))
        into: dict[str, int] = {"buffer": 0, "read": 0}
        for name, size, _index, _table in rels:
            mode = "buffer" if into["buffer"] + size <= room else "read"
            conn.execute("SELECT pg_prewarm(%s::regclass, %s)", (name, mode))
            into[mode] += size
    return {"buffers_mb": into["buffer"] / 1e6, "page_cache_mb": into["read"] / 1e6,
            "seconds": time.perf_counter() - start}  # fmt: skip


def pg_service(ctx: Ctx, size: int) -> Service:
    """The service on the run's PostgreSQL copy of the seeded store of ``size`` customers."""
    from bench.context import NotReady

    key = f"svc-pg-{size}"
    if key not in ctx.cache:
        cluster = pg_cluster_of(ctx)
        if cluster is None:
            msg = "PostgreSQL could not start"
            raise RuntimeError(msg)
        if not ctx.cache.get("pg-seeded"):
            raise NotReady("agentdesk-sync seed (PostgreSQL)")
        size = int(ctx.cache.get("pg-size", size))
        log = ctx.scratch / f"serve-pg-{size}.log"
        ctx.keep(
            "pg", key, ctx.resource("pg").enter_context(serve(ctx.repo, cluster.url(DB_NAME), log))
        )
    return ctx.cache[key]  # type: ignore[no-any-return]
