"""Load the generated data set into a central store, fast and only once.

Chunks are generated (and encoded) in worker processes and written one transaction per chunk:
``executemany`` on SQLite, ``COPY`` on PostgreSQL (the workers produce the COPY text, so the
loading process only forwards bytes), with the secondary indexes dropped and rebuilt
at the end (:mod:`agentdesk_sync.seed.bulk`). Seeded rows carry ``row_seq = 0`` and the
change log stays empty (clients take a snapshot first). The seed arguments are recorded in
``meta('seed')``; seeding again with the same arguments does nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select, text

from agentdesk_sync.db.engine import make_engine, migrate
from agentdesk_sync.db.errors import DataInputError, translate_db_error
from agentdesk_sync.db.models import Meta
from agentdesk_sync.seed.bulk import bulk_mode
from agentdesk_sync.seed.generator import catalog, chunk_count, generate_chunk
from agentdesk_sync.seed.tables import COLUMNS, Tables, catalog_tables, chunk_tables, copy_text

__all__ = ["SeedReport", "seed_database"]

Progress = Callable[[int, int], None]
# per-table row counts, and the rows as tuples (SQLite) or COPY text (PostgreSQL)
Encoded = tuple[dict[str, int], Any]
_SEED_KEY = "seed"
_GENERATOR_VERSION = 2  # 2: column-wise draws (numpy), other data than 1


@dataclass
class SeedReport:
    """What a seed run did."""

    customers: int = 0
    seed: int = 0
    anchor: str = ""
    skipped: bool = False
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the terminal."""
        if self.skipped:
            return (
                f"Already seeded with --customers {self.customers} --seed {self.seed} "
                f"(anchor {self.anchor}); nothing to do."
            )
        counts = " ".join(f"{k}={v}" for k, v in self.rows.items())
        return f"Seeded {counts} in {self.seconds:.1f} s (anchor {self.anchor})."


def _work(args: tuple[int, int, int, date, str, str]) -> Encoded:
    """One chunk, encoded in the worker: tuples for SQLite, ``COPY`` text for PostgreSQL."""
    seed, chunk, n, anchor, dialect, stamp = args
    return _encode(chunk_tables(generate_chunk(seed, chunk, n, anchor), dialect, stamp), dialect)


def _encode(tables: Tables, dialect: str) -> Encoded:
    counts = {name: len(rows) for name, rows in tables.items()}
    if dialect == "sqlite":
        return counts, tables
    return counts, {name: copy_text(rows) for name, rows in tables.items() if rows}


def _chunks(n: int, seed: int, anchor: date, dialect: str, workers: int) -> Iterator[Encoded]:
    stamp = datetime.combine(anchor, datetime.min.time(), UTC).isoformat()[:19] + "Z"
    jobs = [(seed, chunk, n, anchor, dialect, stamp) for chunk in range(chunk_count(n))]
    if workers <= 1 or len(jobs) <= 2:
        yield from map(_work, jobs)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_work, jobs)


def _insert_sqlite(raw: Any, tables: Tables) -> None:
    cur = raw.cursor()
    cur.execute("BEGIN")
    for name, rows in tables.items():
        if rows:
            cols = COLUMNS[name]
            marks = ",".join("?" * len(cols))
            cur.executemany(f"INSERT INTO {name} ({','.join(cols)}) VALUES ({marks})", rows)
    cur.execute("COMMIT")
    cur.close()


def _insert_pg(raw: Any, tables: dict[str, bytes]) -> None:
    with raw.transaction(), raw.cursor() as cur:
        for name, payload in tables.items():
            with cur.copy(f"COPY {name} ({','.join(COLUMNS[name])}) FROM STDIN") as copy:
                copy.write(payload)


def _previous_seed(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as conn:
        value = conn.execute(select(Meta.value).where(Meta.key == _SEED_KEY)).scalar()
        if value is None:
            if conn.execute(text("SELECT 1 FROM customer LIMIT 1")).first() is not None:
                raise DataInputError(
                    "The database already holds customers that were not seeded; "
                    "seed an empty database."
                )
            return None
    previous: dict[str, Any] = orjson.loads(value)
    return previous


def _load(
    engine: Engine, n: int, seed: int, anchor: date, progress: Progress | None
) -> dict[str, int]:
    counts: dict[str, int] = {}
    raw = engine.raw_connection()
    try:
        dialect = engine.dialect.name
        driver: Any = raw.driver_connection
        insert = _insert_sqlite if dialect == "sqlite" else _insert_pg
        with bulk_mode(driver, dialect):
            insert(driver, _encode(catalog_tables(*catalog(anchor)), dialect)[1])
            done = 0
            workers = min(2, os.cpu_count() or 1)
            for sizes, payload in _chunks(n, seed, anchor, dialect, workers):
                insert(driver, payload)
                for name, size in sizes.items():
                    counts[name] = counts.get(name, 0) + size
                done = min(n, done + sizes["customer"])
                if progress is not None:
                    progress(done, n)
    finally:
        raw.close()
    return counts


def _record(engine: Engine, report: SeedReport) -> None:
    value = {"customers": report.customers, "seed": report.seed, "anchor": report.anchor,
             "generator": _GENERATOR_VERSION}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(Meta).values(key=_SEED_KEY, value=orjson.dumps(value).decode()))
        conn.exec_driver_sql("ANALYZE")


def seed_database(
    url: str,
    customers: int,
    seed: int,
    *,
    anchor: date | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    """Migrate ``url`` if needed and load the deterministic data set into it (once).

    Args:
        url: Central store URL.
        customers: Number of customers to generate.
        seed: Seed of the generator.
        anchor: The data set's "today" (default: today in UTC).
        progress: Called with ``(customers_done, customers_total)`` after every chunk.

    Returns:
        What was done; ``skipped`` when the store was already seeded with these arguments.

    Raises:
        DataInputError: The store was seeded with other arguments or holds other customers.
        DatabaseUnavailable: The store cannot be reached.
    """
    if customers < 1:
        raise DataInputError("--customers must be at least 1.")
    migrate(url)
    day = anchor or datetime.now(UTC).date()
    engine = make_engine(url)
    try:
        previous = _previous_seed(engine)
        if previous is not None:
            if (previous["customers"], previous["seed"]) != (customers, seed):
                raise DataInputError(
                    f"The database was already seeded with --customers {previous['customers']} "
                    f"--seed {previous['seed']}; use an empty database for other arguments."
                )
            return SeedReport(customers, seed, previous["anchor"], skipped=True)
        started = time.perf_counter()
        report = SeedReport(customers, seed, day.isoformat())
        report.rows = _load(engine, customers, seed, day, progress)
        _record(engine, report)
        report.seconds = time.perf_counter() - started
        return report
    except OSError as exc:
        raise translate_db_error(exc, engine.url) from None
    finally:
        engine.dispose()
