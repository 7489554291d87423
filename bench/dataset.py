"""The product data set: seeded once with the project's generator, then cached and reused.

``.bench-data/<seed>-<size>-g<generator version>/`` holds:

* ``central.db``: ``agentdesk-sync seed --customers N --seed S`` into the embedded SQLite store,
  plus the benchmark users (``create-user``); ``central.json`` records how long seeding took;
* ``client/``: a client data folder whose cache was filled by the product's first sync
  (``SyncEngine`` against ``agentdesk-sync serve`` on loopback); ``client.json`` records it.

Runs never write into these: a run copies ``central.db`` before serving it for writes.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.context import Ctx, NotReady, product
from bench.disk import forget_pages
from bench.service import PASSWORD, run_sync_cli

__all__ = [
    "AGENTS",
    "central_db",
    "central_regions",
    "copy_db",
    "create_users",
    "scope_regions",
]

AGENTS = 50
CENTRAL_USERS = ("bench_cc", "bench_cc2", "bench_scope")


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def central_regions(db: Path) -> dict[str, int]:
    """Customers per region code in a central SQLite store."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT region_code, count(*) FROM customer GROUP BY region_code")
        return {str(r): int(n) for r, n in rows}
    finally:
        con.close()


def scope_regions(regions: dict[str, int], want: int) -> list[str]:
    """Regions whose customers add up to about ``want`` (largest first, never far above)."""
    chosen: list[str] = []
    total = 0
    for code, count in sorted(regions.items(), key=lambda kv: -kv[1]):
        if total + count <= want * 1.1:
            chosen.append(code)
            total += count
    return chosen or [max(regions, key=lambda k: regions[k])]


def create_users(ctx: Ctx, db_url: str, regions: dict[str, int], size: int) -> None:
    """Create the benchmark users with the service's own ``create_user``.

    ``bench_cc``/``bench_cc2``: call-centre agents seeing every region (devices A and B);
    ``bench_scope``: a call-centre agent whose regions hold about 100 k customers (P8);
    ``bench_a00``…``bench_a49``: the 50 concurrent agents of P10.
    """
    with product("agentdesk_sync.auth.create_user / agentdesk_sync.db.engine.make_engine"):
        from sqlalchemy.orm import Session

        from agentdesk_sync.auth import create_user
        from agentdesk_sync.db.engine import make_engine
    every = sorted(regions)
    scoped = scope_regions(regions, min(100_000, size))
    channels = ["inbound_call", "outbound_call"]
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            for name in CENTRAL_USERS:
                create_user(session, name, PASSWORD, "call_centre",
                            scoped if name == "bench_scope" else every, channels)  # fmt: skip
            for k in range(AGENTS):
                create_user(session, f"bench_a{k:02d}", PASSWORD, "call_centre", every, channels)
            session.commit()
    finally:
        engine.dispose()


def central_db(ctx: Ctx, size: int) -> Path:
    """The seeded central SQLite store of ``size`` customers with the benchmark users.

    Raises:
        NotReady: ``agentdesk-sync seed`` or ``create_user`` do not exist yet.
    """
    folder = ctx.data_dir(size)
    path = folder / "central.db"
    info_path = folder / "central.json"
    info = _read_json(info_path)
    if info.get("complete"):
        return path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    ctx.status(f"seeding {size:,} customers (agentdesk-sync seed)")
    start = time.perf_counter()
    run_sync_cli(ctx.repo, ["seed", "--db", f"sqlite:///{path}", "--customers", str(size),
                            "--seed", str(ctx.seed)])  # fmt: skip
    seed_s = time.perf_counter() - start
    regions = central_regions(path)
    create_users(ctx, f"sqlite:///{path}", regions, size)
    info = {"complete": True, "seed_seconds": round(seed_s, 1), "customers": size,
            "regions": len(regions)}  # fmt: skip
    info_path.write_text(json.dumps(info, indent=1))
    ctx.console.print(f"seeded {size:,} customers in {seed_s:.0f} s")
    return path


def copy_db(src: Path, dst: Path) -> Path:
    """Copy a SQLite file (checkpointed, no WAL) to ``dst`` for a run that writes into it."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    con = sqlite3.connect(src)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copyfile(src, dst)
    os.sync()  # the copy's writeback must not land on the syncs of the first measurements
    forget_pages(src)  # the run reads the copy: the source must not push its pages out
    return dst


def require(cond: bool, what: str) -> None:
    """Raise NotReady when a product part is missing."""
    if not cond:
        raise NotReady(what)
