"""Customer import on PostgreSQL: batch N+1 is read and prepared while batch N is written.

Three connections: the reading one (autocommit) fetches the stored rows of the next batch and
the main thread prepares and encodes it, while two writer threads send the previous batches to
the server (:func:`agentdesk_sync.importers.upsert.write_staged`); the driver releases the GIL
while it waits, so the Python work and the server work overlap. At most two batches are in
flight: one batch's staging ``COPY`` (its customers the store already holds) runs while the
batch before it is written, and the later one takes its change numbers (and copies its new
customers in) only after the earlier one committed, so numbers follow file order. A batch that
shares a key with one in flight waits for the batches in flight to commit before reading, so it
compares with the row they wrote. Keys include the kept customers that merged-away ids lead to;
a batch's merge check (:mod:`agentdesk_sync.importers.upsert`) starts from the oldest in-flight
batch's sequencer mark, so a merge that made an earlier batch read again (and write a kept
customer this one holds) makes this one read again too. It reads the change log only when
something besides this import's own batches committed since that mark (:class:`Chain`).

First load: when the ``customer`` table is empty and the file is big, its secondary indexes are
dropped (under a short ``ACCESS EXCLUSIVE`` lock, only if the table is still empty then) and
rebuilt once at the end, which costs far less than maintaining them row by row. Readers meanwhile
find the rows without those indexes (slower searches, same answers); while they are rebuilt,
writes to ``customer`` wait (reads do not). An import that dies before the rebuild leaves them
missing; every customer import first recreates any that are missing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex

from agentdesk_sync.db.models import Customer
from agentdesk_sync.importers.batch import BatchResult
from agentdesk_sync.importers.customers import CustomerPlan
from agentdesk_sync.importers.mapping import Mapping
from agentdesk_sync.importers.reader import Record
from agentdesk_sync.importers.upsert import (
    Chain,
    record_keys,
    redirects_of,
    sequencer_value,
    stage_batch,
    write_staged,
)

__all__ = ["BULK_INDEX_BYTES", "ensure_customer_indexes", "import_customers_pg"]

BULK_INDEX_BYTES = 8 << 20
"""Files at least this big drop and rebuild the secondary indexes of an empty ``customer``."""

_LOCK_TIMEOUT = "5s"
WRITERS = 2
"""Writer connections: one batch's staging ``COPY`` overlaps the previous one's writes."""


def _index_ddl() -> dict[str, str]:
    """``CREATE INDEX`` of every secondary index of ``customer``, by index name."""
    table: Any = Customer.__table__
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return {str(ix.name): str(CreateIndex(ix).compile(dialect=dialect)) for ix in table.indexes}


def _missing(cur: Any) -> list[str]:
    cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'customer'")
    present = {name for (name,) in cur.fetchall()}
    return [name for name in _index_ddl() if name not in present]


def ensure_customer_indexes(driver: Any) -> list[str]:
    """Recreate the secondary indexes of ``customer`` that are missing; their names."""
    ddl = _index_ddl()
    with driver.cursor() as cur:
        missing = _missing(cur)
        if missing:
            cur.execute("SET maintenance_work_mem = '256MB'")
        for name in missing:
            cur.execute(ddl[name])
    driver.commit()
    return missing


def _drop_for_first_load(driver: Any) -> bool:
    """Drop the secondary indexes if ``customer`` is empty; False when it is not (or busy)."""
    with driver.cursor() as cur:
        try:
            cur.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
            cur.execute("LOCK TABLE customer IN ACCESS EXCLUSIVE MODE")
            cur.execute("SELECT EXISTS (SELECT 1 FROM customer)")
            if cur.fetchone()[0]:
                driver.rollback()
                return False
            for name in _index_ddl():
                cur.execute(f"DROP INDEX IF EXISTS {name}")
        except Exception as exc:  # lock_timeout (55P03): someone holds the table; load normally
            driver.rollback()
            if getattr(exc, "sqlstate", None) != "55P03":
                raise
            return False
    driver.commit()
    return True


def _session(driver: Any) -> None:
    """Room for a whole batch in the temporary staging table (set before it is first used), and
    LZ4 for the JSON rows this import stores: ~2 KB rows are compressed, and PostgreSQL's
    default (pglz) made compressing and reading them back most of the server's work. Readers
    need nothing: the method is recorded per value. A server built without LZ4 keeps pglz."""
    with driver.cursor() as cur:
        cur.execute("SET temp_buffers = '256MB'")
    driver.commit()
    try:
        with driver.cursor() as cur:
            cur.execute("SET default_toast_compression = 'lz4'")
    except Exception as exc:  # 22023: not supported by this build
        driver.rollback()
        if getattr(exc, "sqlstate", None) != "22023":
            raise
    else:
        driver.commit()


def import_customers_pg(
    engine: Engine, batches: Iterable[list[Record]], mapping: Mapping, totals: BatchResult,
    *, dry_run: bool = False, big: bool = False,
) -> None:  # fmt: skip
    """Import the customer ``batches`` (in file order), adding counts and rejects to ``totals``.

    Args:
        engine: A PostgreSQL engine.
        batches: The records, batch by batch.
        mapping: The import mapping.
        totals: Where the counts and rejects are added.
        dry_run: Roll every batch back.
        big: The file is big enough to rebuild the indexes of an empty table at the end.
    """
    plans: dict[tuple[str, ...], CustomerPlan] = {}
    reader = engine.raw_connection()
    writers = [engine.raw_connection() for _ in range(WRITERS)]
    try:
        read_driver: Any = reader.driver_connection
        write_drivers: list[Any] = [w.driver_connection for w in writers]
        write_driver = write_drivers[0]
        read_driver.autocommit = True
        for driver in write_drivers:
            _session(driver)
        ensure_customer_indexes(write_driver)
        dropped = big and not dry_run and _drop_for_first_load(write_driver)
        try:
            _pipeline(read_driver, write_drivers, batches, mapping, plans, totals, dry_run)
        finally:
            if dropped:
                write_driver.rollback()
                ensure_customer_indexes(write_driver)
    finally:
        reader.close()
        for writer in writers:
            writer.close()


def _pipeline(
    read_driver: Any, write_drivers: list[Any], batches: Iterable[list[Record]],
    mapping: Mapping, plans: dict[tuple[str, ...], CustomerPlan], totals: BatchResult,
    dry_run: bool,
) -> None:  # fmt: skip
    free = list(write_drivers)
    chain = Chain()  # this import's committed change numbers (spares the merge check's read)
    in_flight: deque[tuple[Future[BatchResult], frozenset[str], Any, int]] = deque()

    def settle_oldest() -> None:
        future, _keys, driver, _mark = in_flight.popleft()
        totals.add(future.result())  # the counts as written (see write_staged)
        free.append(driver)

    with ThreadPoolExecutor(max_workers=len(free), thread_name_prefix="import-writer") as pool:
        for records in batches:
            keyed = record_keys(records, mapping)
            with read_driver.cursor() as cur:
                watermark = sequencer_value(cur)  # first: see upsert's docstring
                redirects = redirects_of(cur, "postgresql", keyed)
                keys = set(keyed) | set(redirects.values())  # kept ids are written too
                if in_flight and any(not k.isdisjoint(keys) for _f, k, _d, _m in in_flight):
                    while in_flight:  # compare with what those batches wrote
                        settle_oldest()
                # a merge seen by this read may have made a batch in flight read again (and
                # write a kept customer this batch holds): check from the oldest one's mark
                watermark = min([watermark, *(m for _f, _k, _d, m in in_flight)])
                staged = stage_batch(cur, records, keyed, mapping, plans, watermark=watermark,
                                     redirects=redirects)  # fmt: skip
            if not free:
                settle_oldest()
            driver = free.pop()
            ready = in_flight[-1][0].result if in_flight else None
            future = pool.submit(
                write_staged, driver, staged, dry_run=dry_run, ready=ready, chain=chain
            )
            in_flight.append((future, staged.keys, driver, staged.watermark))
        while in_flight:
            settle_oldest()
