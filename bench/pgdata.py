"""The service on PostgreSQL: a throwaway cluster (fsync on), seeded with the product's generator.

The cluster lives for one run (started on first use, deleted at the end). The database is
seeded with ``agentdesk-sync seed --db postgresql+psycopg://…`` and gets the benchmark users.
"""

from __future__ import annotations

import time
from typing import Any

from bench.context import Ctx
from bench.dataset import central_db, central_regions, create_users
from bench.service import Service, run_sync_cli, serve

__all__ = ["pg_cluster_of", "pg_service"]


def pg_cluster_of(ctx: Ctx) -> Any:
    """The run's PostgreSQL cluster, or None when it cannot start."""
    if "pg" not in ctx.cache:
        from bench.pgcluster import pg_cluster

        try:
            ctx.status("starting a throwaway PostgreSQL cluster (fsync on)")
            ctx.cache["pg"] = ctx.stack.enter_context(pg_cluster())
        except Exception as exc:
            ctx.console.print(f"[yellow]PostgreSQL unavailable:[/yellow] {exc}")
            ctx.cache["pg"] = None
    return ctx.cache["pg"]


def pg_service(ctx: Ctx, size: int) -> Service:
    """The service on a freshly seeded PostgreSQL database of ``size`` customers."""
    key = f"svc-pg-{size}"
    if key not in ctx.cache:
        cluster = pg_cluster_of(ctx)
        if cluster is None:
            msg = "PostgreSQL could not start"
            raise RuntimeError(msg)
        url = cluster.create_database(f"bench_{size}")
        ctx.status(f"seeding PostgreSQL with {size:,} customers")
        start = time.perf_counter()
        run_sync_cli(ctx.repo, ["seed", "--db", url, "--customers", str(size),
                                "--seed", str(ctx.seed)])  # fmt: skip
        ctx.cache[f"pg-seed-seconds-{size}"] = time.perf_counter() - start
        create_users(ctx, url, central_regions(central_db(ctx, size)), size)
        log = ctx.scratch / f"serve-pg-{size}.log"
        ctx.cache[key] = ctx.stack.enter_context(serve(ctx.repo, url, log))
    return ctx.cache[key]  # type: ignore[no-any-return]
