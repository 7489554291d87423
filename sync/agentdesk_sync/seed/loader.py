"""Load the generated data set into a central store, fast and only once.

Chunks are generated (and encoded) in worker processes and written one transaction per chunk,
so the loading process does as little per row as it can: on SQLite each worker writes its chunk
into a small scratch database (plain tables, no indexes) and the loading process copies it over
with ``INSERT … SELECT`` (no Python per row); on PostgreSQL the workers produce the ``COPY``
text and the loading process only forwards bytes. At most a few chunks are in flight, so memory
and scratch space stay small at any size. The secondary indexes are dropped and rebuilt at the
end (:mod:`agentdesk_sync.seed.bulk`). Seeded rows carry ``row_seq = 0`` and the
change log stays empty (clients take a snapshot first). The seed arguments are recorded in
``meta('seed')``; seeding again with the same arguments does nothing.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select, text

from agentdesk_sync.db.engine import make_engine, migrate
from agentdesk_sync.db.errors import DataInputError, translate_db_error
from agentdesk_sync.db.models import Meta
from agentdesk_sync.seed.bulk import bulk_mode
from agentdesk_sync.seed.generator import CHUNK, catalog, chunk_count, generate_chunk
from agentdesk_sync.seed.tables import COLUMNS, Tables, catalog_tables, chunk_tables, copy_text

__all__ = ["GENERATOR_VERSION", "SeedReport", "seed_database"]

Progress = Callable[[int, int], None]
# per-table row counts, and the rows as tuples (SQLite) or COPY text (PostgreSQL)
Encoded = tuple[dict[str, int], Any]
_SEED_KEY = "seed"
_ANALYSIS_ROWS = 1000
_JSON_COLUMNS = frozenset({"row"})  # bytes in the scratch databases, text in the store
GENERATOR_VERSION = 2  # 2: column-wise draws (numpy), other data than 1
_RAM_DIR = "/dev/shm"
# a scratch chunk file takes about 10 kB per customer (48.5 MB for a chunk of 5,000 measured);
# counted with a margin, plus headroom left for whatever else uses the RAM folder
_SCRATCH_BYTES_PER_CUSTOMER = 14_000
_RAM_HEADROOM = 64 * 1024 * 1024
_SCRATCH_PREFIX = "agentdesk-seed-"


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


Job = tuple[int, int, int, date, str, str, str]


def _work(job: Job) -> Encoded:
    """One chunk, encoded in the worker: a scratch database for SQLite, ``COPY`` text for PG."""
    seed, chunk, n, anchor, dialect, stamp, scratch = job
    tables = chunk_tables(generate_chunk(seed, chunk, n, anchor), dialect, stamp)
    counts = {name: len(rows) for name, rows in tables.items()}
    if dialect == "sqlite":
        return counts, _scratch_database(tables, os.path.join(scratch, f"chunk-{chunk}.db"))
    return counts, {name: copy_text(rows) for name, rows in tables.items() if rows}


def _columns(name: str) -> str:
    return ",".join(f'"{column}"' for column in COLUMNS[name])


def _scratch_database(tables: Tables, path: str) -> str:
    """Write ``tables`` into a new SQLite file of plain tables (no keys, no durability)."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("BEGIN")
        for name, rows in tables.items():
            marks = ",".join("?" * len(COLUMNS[name]))
            con.execute(f"CREATE TABLE {name} ({_columns(name)})")
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
        con.execute("COMMIT")
    finally:
        con.close()
    return path


def _chunks(jobs: list[Job], workers: int) -> Generator[Encoded, None, None]:
    """The encoded chunks in order; at most ``2 * workers`` are made ahead of the loader."""
    if workers <= 1 or len(jobs) <= 2:
        yield from map(_work, jobs)
        return
    with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start) as pool:
        waiting = iter(jobs)
        pending = deque(pool.apply_async(_work, (job,)) for job in islice(waiting, 2 * workers))
        while pending:
            done = pending.popleft().get()
            following = next(waiting, None)
            if following is not None:
                pending.append(pool.apply_async(_work, (following,)))
            yield done


def _insert_sqlite(raw: Any, scratch: str) -> None:
    """Copy a worker's scratch database into the store (one transaction) and delete it."""
    cur = raw.cursor()
    cur.execute("ATTACH DATABASE ? AS chunk", (scratch,))
    try:
        names = [name for (name,) in cur.execute("SELECT name FROM chunk.sqlite_master")]
        cur.execute("BEGIN")
        for name in names:
            values = ",".join(
                f'CAST("{c}" AS TEXT)' if c in _JSON_COLUMNS else f'"{c}"' for c in COLUMNS[name]
            )
            cur.execute(
                f"INSERT INTO main.{name} ({_columns(name)}) SELECT {values} FROM chunk.{name}"
            )
        cur.execute("COMMIT")
    finally:
        cur.execute("DETACH DATABASE chunk")
        cur.close()
        os.remove(scratch)


def _insert_catalog_sqlite(raw: Any, tables: Tables) -> None:
    cur = raw.cursor()
    cur.execute("BEGIN")
    for name, rows in tables.items():
        marks = ",".join("?" * len(COLUMNS[name]))
        cur.executemany(f"INSERT INTO {name} ({_columns(name)}) VALUES ({marks})", rows)
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


def _scratch_need(n: int, workers: int) -> int:
    """Bytes the scratch chunk files in flight can take at once (see :func:`_chunks`)."""
    in_flight = 1 if workers <= 1 else 2 * workers + 1  # made ahead, plus the one loading
    return min(n, in_flight * CHUNK) * _SCRATCH_BYTES_PER_CUSTOMER


def _scratch_place(need: int) -> str | None:
    """A RAM-backed folder for the scratch databases if it has ample room for ``need`` bytes.

    Else None (the system temp folder): a container's ``/dev/shm`` is often 64 MB, too small for
    the chunks in flight, and a full one fails the seed with ``SQLITE_FULL``.
    """
    ram_dir = _RAM_DIR
    if not (os.path.isdir(ram_dir) and os.access(ram_dir, os.W_OK)):
        return None
    try:
        fs = os.statvfs(ram_dir)
    except OSError:
        return None
    return ram_dir if fs.f_bavail * fs.f_frsize >= need + _RAM_HEADROOM else None


def _sweep_stale_scratch(place: str | None) -> None:
    """Remove scratch folders left by seed runs that were killed (their process is gone)."""
    folder = place or tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = name[len(_SCRATCH_PREFIX) :].split("-", 1)[0]
        if not name.startswith(_SCRATCH_PREFIX) or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
        except OSError:
            continue


@contextlib.contextmanager
def _scratch_folder(place: str | None) -> Iterator[str]:
    """A scratch folder removed on every way out: an error, Ctrl-C or ``SIGTERM``."""
    _sweep_stale_scratch(place)
    folder = tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-", dir=place)
    previous: Any = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        yield folder
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(folder, ignore_errors=True)


def _exit_on_term(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that clean up


def _worker_start() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool stops its workers with SIGTERM


def _load(
    engine: Engine, n: int, seed: int, anchor: date, progress: Progress | None
) -> dict[str, int]:
    counts: dict[str, int] = {}
    raw = engine.raw_connection()
    try:
        dialect = engine.dialect.name
        driver: Any = raw.driver_connection
        insert = _insert_sqlite if dialect == "sqlite" else _insert_pg
        campaigns = catalog_tables(*catalog(anchor))
        stamp = datetime.combine(anchor, datetime.min.time(), UTC).isoformat()[:19] + "Z"
        workers = min(2, os.cpu_count() or 1)
        need = _scratch_need(n, workers) if dialect == "sqlite" else 0
        with bulk_mode(driver, dialect), _scratch_folder(_scratch_place(need)) as tmp:
            if dialect == "sqlite":
                _insert_catalog_sqlite(driver, campaigns)
            else:
                _insert_pg(driver, {name: copy_text(rows) for name, rows in campaigns.items()})
            jobs = [(seed, c, n, anchor, dialect, stamp, tmp) for c in range(chunk_count(n))]
            done = 0
            # closing: the workers are stopped before the scratch folder is removed
            with contextlib.closing(_chunks(jobs, workers)) as chunks:
                for sizes, payload in chunks:
                    insert(driver, payload)
                    for name, size in sizes.items():
                        counts[name] = counts.get(name, 0) + size
                    done = min(n, done + sizes["customer"])
                    if progress is not None:
                        progress(done, n)
    finally:
        raw.close()
    return counts


def _check_same_seed(previous: dict[str, Any], customers: int, seed: int) -> None:
    """Raise unless the store was seeded with these arguments by this generator version."""
    generator = previous.get("generator", 1)
    if (previous["customers"], previous["seed"]) != (customers, seed):
        raise DataInputError(
            f"The database was already seeded with --customers {previous['customers']} "
            f"--seed {previous['seed']}; use an empty database for other arguments."
        )
    if generator != GENERATOR_VERSION:
        raise DataInputError(
            f"The database was seeded with the same arguments by generator version {generator}; "
            f"this is version {GENERATOR_VERSION}, which makes other data. Use an empty database."
        )


def _record(engine: Engine, report: SeedReport) -> None:
    value = {"customers": report.customers, "seed": report.seed, "anchor": report.anchor,
             "generator": GENERATOR_VERSION}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(Meta).values(key=_SEED_KEY, value=orjson.dumps(value).decode()))
        if engine.dialect.name == "sqlite":
            # statistics from a sample of each index: a full ANALYZE reads the whole store
            conn.exec_driver_sql(f"PRAGMA analysis_limit={_ANALYSIS_ROWS}")
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
            _check_same_seed(previous, customers, seed)
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
