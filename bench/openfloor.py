"""P10's floor under the same open-loop model as ours: raw claim upserts at Poisson arrivals.

Each of ``agents`` threads owns one database connection and runs the claim-style upsert (the
statements of :func:`bench.floors.floor_upsert_sqlite` / :func:`bench.netfloors.floor_upsert_pg`)
at its own Poisson arrivals of ``rate`` per second; latency runs from the scheduled arrival to the
commit, as for the product. The threads sleep between arrivals, so the bench process adds little
load of its own.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.measure import Stat, stat_of

__all__ = ["open_floor_upsert_pg", "open_floor_upsert_sqlite"]

_SQLITE_SQL = (
    "INSERT INTO claim AS c VALUES (?, ?, 1, ?) ON CONFLICT(customer_id) DO UPDATE SET "
    "holder = excluded.holder, fence = c.fence + 1, lease_until = excluded.lease_until "
    "WHERE c.lease_until < ? OR c.holder = excluded.holder RETURNING fence"
)


def _open_loop(
    agents: int,
    rate: float,
    seconds: float,
    connect: Callable[[int], tuple[Callable[[str], None], Callable[[], None]]],
    customers: int,
    seed: int,
) -> Stat:
    samples: list[float] = []
    lock = threading.Lock()
    t0 = time.perf_counter() + 0.5
    errors: list[BaseException] = []

    def agent(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        op, close = connect(k)
        local: list[float] = []
        try:
            at = rng.uniform(0.0, 1.0 / rate)
            while at < seconds:
                due = t0 + at
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                op(f"C{rng.randrange(customers) + 1:08d}")
                local.append(time.perf_counter() - due)
                at += rng.expovariate(rate)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close()
        with lock:
            samples.extend(local)

    threads = [threading.Thread(target=agent, args=(k,)) for k in range(agents)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return stat_of(samples)


def open_floor_upsert_sqlite(
    folder: Path, agents: int, rate: float, seconds: float, customers: int, seed: int = 1
) -> Stat:
    """Raw SQLite claim upserts (``BEGIN IMMEDIATE`` … ``COMMIT``, WAL), open loop."""
    path = folder / "claim-open-floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE claim(customer_id TEXT PRIMARY KEY, holder TEXT, fence INT, "
                  "lease_until REAL)")  # fmt: skip
    setup.close()

    def connect(k: int) -> tuple[Callable[[str], None], Callable[[], None]]:
        con = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        con.execute("PRAGMA synchronous=NORMAL")  # as the service's store

        def op(cid: str) -> None:
            now = time.time()
            con.execute("BEGIN IMMEDIATE")
            con.execute(_SQLITE_SQL, (cid, f"agent{k}", now + 900, now)).fetchall()
            con.execute("COMMIT")

        return op, con.close

    return _open_loop(agents, rate, seconds, connect, customers, seed)


def open_floor_upsert_pg(
    conninfo: str, agents: int, rate: float, seconds: float, customers: int, seed: int = 1
) -> Stat:
    """Raw PostgreSQL claim upserts (autocommit, fsync on), one connection per agent, open loop."""
    import psycopg

    from bench.netfloors import CLAIM_DDL, CLAIM_SQL

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(CLAIM_DDL)
        conn.execute("TRUNCATE claim_floor")

    def connect(k: int) -> tuple[Callable[[str], None], Callable[[], None]]:
        conn = psycopg.connect(conninfo, autocommit=True)

        def op(cid: str) -> None:
            conn.execute(CLAIM_SQL, (cid, f"agent{k}")).fetchone()

        return op, conn.close

    return _open_loop(agents, rate, seconds, connect, customers, seed)
