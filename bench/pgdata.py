"""The service on PostgreSQL: a throwaway cluster (fsync on) over a seeded, cached data folder.

The first run of a size seeds a cluster kept under
``.bench-data/<seed>-<size>-g<version>/pgdata`` with ``agentdesk-sync seed --db
postgresql+psycopg://…`` and the benchmark users, then stops it. Every run copies that folder into
a temp folder, starts a throwaway cluster on it (random port) and deletes it at the end, so runs
never see each other's writes.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench.context import Ctx
from bench.dataset import central_db, central_regions, create_users
from bench.service import Service, run_sync_cli, serve

__all__ = ["DB_NAME", "pg_cluster_of", "pg_service", "pg_template"]

DB_NAME = "agentdesk"


def pg_template(ctx: Ctx, size: int) -> Path:
    """The stopped, seeded data folder of ``size`` (built once; NotReady without the seed)."""
    from bench.pgcluster import pg_cluster

    folder = ctx.data_dir(size)
    template = folder / "pgdata"
    info_path = folder / "pg.json"
    if info_path.exists() and json.loads(info_path.read_text()).get("complete"):
        return template
    central = central_db(ctx, size)  # first: NotReady when the generator is missing
    building = folder / "pgdata.tmp"
    shutil.rmtree(building, ignore_errors=True)
    ctx.status(f"seeding PostgreSQL with {size:,} customers")
    start = time.perf_counter()
    with pg_cluster(data=building) as cluster:
        url = cluster.create_database(DB_NAME)
        run_sync_cli(ctx.repo, ["seed", "--db", url, "--customers", str(size),
                                "--seed", str(ctx.seed)])  # fmt: skip
        create_users(ctx, url, central_regions(central), size)
    seconds = time.perf_counter() - start
    shutil.rmtree(template, ignore_errors=True)
    building.rename(template)
    info_path.write_text(json.dumps({"complete": True, "seed_seconds": round(seconds, 1)}))
    ctx.console.print(f"PostgreSQL seeded with {size:,} customers in {seconds:.0f} s")
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
        ctx.cache["pg-size"] = size
        try:
            ctx.status("starting a throwaway PostgreSQL cluster (fsync on)")
            ctx.cache["pg"] = ctx.stack.enter_context(pg_cluster(template=template))
            ctx.cache["pg-seeded"] = template is not None
        except Exception as exc:
            ctx.console.print(f"[yellow]PostgreSQL unavailable:[/yellow] {exc}")
            ctx.cache["pg"] = None
    return ctx.cache["pg"]


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
        ctx.cache[key] = ctx.stack.enter_context(serve(ctx.repo, cluster.url(DB_NAME), log))
    return ctx.cache[key]  # type: ignore[no-any-return]
