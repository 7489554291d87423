"""Import shared data (customers, campaigns, target lists, contacts) from CSV or NDJSON files.

``run_import`` reads the file in batches, upserts by business key (a second import of the same
file changes nothing), appends a change per written row, and never stops on a bad row: rejected
rows go to the reject report (``line``, ``column``, ``value``, ``reason``). Customers, the big
kind, take the bulk path of :mod:`agentdesk_sync.importers.upsert` (COPY on PostgreSQL); the
other kinds go through :func:`agentdesk_sync.importers.batch.import_batch`.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from agentdesk_sync.db.engine import make_engine, migrate
from agentdesk_sync.db.errors import DataInputError
from agentdesk_sync.importers.batch import BatchResult, Reject, import_batch
from agentdesk_sync.importers.customers import CustomerPlan
from agentdesk_sync.importers.kinds import KINDS
from agentdesk_sync.importers.mapping import Mapping, load_mapping
from agentdesk_sync.importers.pipeline import BULK_INDEX_BYTES, import_customers_pg
from agentdesk_sync.importers.reader import BadLine, Record, read_records
from agentdesk_sync.importers.upsert import upsert_customers

__all__ = ["KINDS", "ImportReport", "Mapping", "Reject", "load_mapping", "run_import"]

BATCH = 5_000
CUSTOMER_BATCH = 20_000
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)
    dry_run: bool = False
    redirected: int = 0
    """Rows that named a merged-away customer and went to the kept one (``agentdesk-sync
    merge``); they are counted as updated or unchanged too."""

    @property
    def rejected(self) -> int:
        """Number of rejected rows."""
        return len(self.rejects)

    def summary(self) -> str:
        """``imported=N updated=N unchanged=N rejected=N``, then ``redirected=N`` when rows
        named merged-away customers (plus a dry-run note)."""
        line = (
            f"imported={self.imported} updated={self.updated} unchanged={self.unchanged} "
            f"rejected={self.rejected}"
        )
        if self.redirected:
            line += f" redirected={self.redirected}"
        return line + (" (dry run: nothing written)" if self.dry_run else "")


def write_rejects(path: Path, rejects: list[Reject]) -> None:
    """Write the reject report CSV (``line,column,value,reason``), sorted by line."""
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "column", "value", "reason"])
            for r in sorted(rejects, key=lambda r: r.line):
                writer.writerow([r.line, r.column, r.value, r.reason])
    except OSError as exc:
        raise DataInputError(f"Cannot write the reject report {path}: {exc.strerror}.") from None


def _add(report: ImportReport, result: BatchResult) -> None:
    report.imported += result.imported
    report.updated += result.updated
    report.unchanged += result.unchanged
    report.rejects += result.rejects
    report.redirected += result.redirected


def _flush(
    engine: Engine, kind: str, records: list[Record], mapping: Mapping, report: ImportReport
) -> None:
    """One batch of a kind other than customers, in one transaction. On SQLite that
    transaction takes the write lock at its start (``BEGIN IMMEDIATE``, as the service's writes
    and the customer import do): the batch decides on what it reads (a merge's redirects, the
    stored rows), so no other writer may commit before it writes (and a deferred transaction
    would then fail its first write with ``SQLITE_BUSY`` instead of waiting)."""
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="IMMEDIATE")
    with Session(engine) as session:
        result = import_batch(session, kind, records, mapping)
        if report.dry_run:
            session.rollback()
        else:
            session.commit()
    _add(report, result)


def _import_customers_sqlite(
    engine: Engine, batches: Iterable[list[Record]], mapping: Mapping, report: ImportReport
) -> None:
    plans: dict[tuple[str, ...], CustomerPlan] = {}
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        for records in batches:
            result = upsert_customers(
                driver, "sqlite", records, mapping, plans, dry_run=report.dry_run
            )
            _add(report, result)
    finally:
        raw.close()


def _batches(
    path: Path, mapping: Mapping, report: ImportReport, size: int, total: int,
    progress: Progress | None,
) -> Iterator[list[Record]]:  # fmt: skip
    """The file's records in batches of ``size``; bad lines go to the report's rejects."""
    batch: list[Record] = []
    for item, done in read_records(path, delimiter=mapping.delimiter, encoding=mapping.encoding):
        if isinstance(item, BadLine):
            report.rejects.append(Reject(item.line, "", item.value, item.reason))
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
            if progress is not None:
                progress(done, total)
    if batch:
        yield batch
    if progress is not None:
        progress(total, total)


def run_import(
    url: str,
    kind: str,
    path: Path,
    *,
    map_path: Path | None = None,
    dry_run: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``path`` (``.csv`` or ``.ndjson``) of ``kind`` into the store at ``url``.

    Raises:
        DataInputError: Unknown kind, unreadable file or mapping: the import could not run.
        DatabaseUnavailable: The store cannot be reached.
    """
    if kind not in KINDS:
        raise DataInputError(f"Unknown import kind {kind!r}; use one of {', '.join(KINDS)}.")
    mapping = load_mapping(map_path)
    if not path.is_file():
        raise DataInputError(f"The import file {path} does not exist.")
    total = path.stat().st_size
    migrate(url)
    engine = make_engine(url)
    report = ImportReport(dry_run=dry_run)
    size = CUSTOMER_BATCH if kind == "customers" else BATCH
    batches = _batches(path, mapping, report, size, total, progress)
    # the import makes millions of short-lived dicts and no reference cycles: the cyclic
    # collector would only walk the batches in flight over and over (a third of the CPU)
    collecting = gc.isenabled() and kind == "customers"
    if collecting:
        gc.disable()
    try:
        if kind == "customers" and engine.dialect.name == "postgresql":
            totals = BatchResult()
            big = total >= BULK_INDEX_BYTES
            import_customers_pg(engine, batches, mapping, totals, dry_run=dry_run, big=big)
            _add(report, totals)
        elif kind == "customers":
            _import_customers_sqlite(engine, batches, mapping, report)
        else:
            for records in batches:
                _flush(engine, kind, records, mapping, report)
    finally:
        if collecting:
            gc.enable()
        engine.dispose()
    if rejects_path is not None:
        write_rejects(rejects_path, report.rejects)
    return report
