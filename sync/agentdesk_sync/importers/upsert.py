"""Bulk upsert of customer batches on the raw driver connection (COPY on PostgreSQL).

One transaction per batch:

1. the stored rows of the batch's keys are read (as JSON text, parsed with orjson);
2. every record is prepared (:mod:`agentdesk_sync.importers.customers`); equal rows are
   ``unchanged`` and write nothing;
3. change numbers are reserved (:func:`agentdesk_sync.db.changes.reserve_seqs`, which holds the
   sequencer lock until commit, so sequence order stays commit order);
4. the written rows carry their newest change number as ``row_seq`` right away; on PostgreSQL
   new customers are copied straight into ``customer`` (in a savepoint: should another writer
   have inserted one of them meanwhile, they take the next path instead) and changed ones are
   copied into a temporary table and moved with ``INSERT … ON CONFLICT DO UPDATE … WHERE the
   row differs``; on SQLite all are written with one ``executemany`` upsert;
5. the ``change_log`` rows are copied (PostgreSQL) or inserted with ``executemany`` (SQLite),
   reusing the JSON text of the customer row.

A dry run does all of it and rolls back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from agentdesk_sync.importers.batch import BatchResult, Reject
from agentdesk_sync.importers.customers import CustomerPlan, plan_for
from agentdesk_sync.importers.fields import FieldError
from agentdesk_sync.importers.kinds import Prepared, key_of
from agentdesk_sync.importers.mapping import Mapping
from agentdesk_sync.importers.reader import Record

__all__ = ["upsert_customers"]

Row = dict[str, Any]
_COLS = ("customer_id", "msisdn", "name", "id_type", "id_number", "region_code", "segment_id",
         "account_manager_id", "contact_address", "row", "row_seq", "updated_at")  # fmt: skip
_LOG_COLS = ("server_seq", "entity", "entity_id", "op", "region_code", "customer_id", "row",
             "created_at")  # fmt: skip
_RESERVE = "UPDATE sequencer SET value = value + {n} WHERE name = 'change' RETURNING value"
_STAGE = "import_customer_stage"
_UNIQUE_VIOLATION = "23505"
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (LIKE customer INCLUDING DEFAULTS)"
    " ON COMMIT DELETE ROWS"
)
_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLS[1:])
_PG_MOVE = (
    f"INSERT INTO customer ({', '.join(_COLS)}) SELECT {', '.join(_COLS)} FROM {_STAGE}"
    f" ON CONFLICT (customer_id) DO UPDATE SET {_SET}"
    " WHERE customer.row IS DISTINCT FROM EXCLUDED.row"
)
_SQLITE_UPSERT = (
    f"INSERT INTO customer ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))})"
    f" ON CONFLICT (customer_id) DO UPDATE SET {_SET}"
)
_SQLITE_LOG = f"INSERT INTO change_log ({', '.join(_LOG_COLS)}) VALUES ({', '.join('?' * 8)})"


def _reject(record: Record, mapping: Mapping, exc: FieldError) -> Reject:
    column = exc.field
    value = record.values.get(column, record.values.get(mapping.source_of(column), ""))
    return Reject(record.line, column, "" if value is None else str(value), exc.reason)


def _existing(cur: Any, dialect: str, keys: list[str]) -> dict[str, Row]:
    if not keys:
        return {}
    if dialect == "postgresql":
        cur.execute(
            "SELECT customer_id, row::text FROM customer WHERE customer_id = ANY(%s)", (keys,)
        )
        return {k: orjson.loads(r) for k, r in cur.fetchall()}
    found: dict[str, Row] = {}
    for start in range(0, len(keys), 900):
        part = keys[start : start + 900]
        marks = ",".join("?" * len(part))
        cur.execute(f"SELECT customer_id, row FROM customer WHERE customer_id IN ({marks})", part)
        found.update((k, orjson.loads(r)) for k, r in cur.fetchall())
    return found


def _classify(
    records: list[Record], mapping: Mapping, plans: dict[tuple[str, ...], CustomerPlan],
    existing: dict[str, Row], result: BatchResult,
) -> list[Prepared]:  # fmt: skip
    """Prepared records that change something, in file order (a key may repeat)."""
    stored = set(existing)
    seen_new: set[str] = set()
    seen_changed: set[str] = set()
    written: list[Prepared] = []
    for record in records:
        values = record.values
        try:
            before = existing.get(key_of("customers", values, mapping))
            prepared = plan_for(plans, values, mapping).prepare(values, before)
        except FieldError as exc:
            result.rejects.append(_reject(record, mapping, exc))
            continue
        if existing.get(prepared.key) == prepared.row:
            result.unchanged += 1
            continue
        if prepared.key in seen_new:
            pass  # the same new record again: later line wins
        elif prepared.key in stored:
            result.updated += prepared.key not in seen_changed
            seen_changed.add(prepared.key)
        else:
            seen_new.add(prepared.key)
            result.imported += 1
        existing[prepared.key] = prepared.row
        written.append(prepared)
    return written


def _tuples(
    written: list[Prepared], seqs: range, now: Any
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Customer tuples (the last one per key) and change-log tuples, sharing the JSON text."""
    customers: dict[str, tuple[Any, ...]] = {}
    log = []
    for prepared, seq in zip(written, seqs, strict=True):
        text = orjson.dumps(prepared.row).decode()
        c = prepared.columns
        customers[prepared.key] = (
            prepared.key, c["msisdn"], c["name"], c["id_type"], c["id_number"],
            c["region_code"], c["segment_id"], c["account_manager_id"], c["contact_address"],
            text, seq, now,
        )  # fmt: skip
        log.append((seq, "customer", prepared.key, "put", c["region_code"], prepared.key,
                    text, now))  # fmt: skip
    return list(customers.values()), log


def _reserve(cur: Any, count: int) -> range:
    cur.execute(_RESERVE.format(n=int(count)))
    last = int(cur.fetchone()[0])
    return range(last - count + 1, last + 1)


def _copy(cur: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _upsert_pg(cur: Any, customers: list[tuple[Any, ...]]) -> None:
    cur.execute(_CREATE_STAGE)
    _copy(cur, _STAGE, _COLS, customers)
    cur.execute(_PG_MOVE)
    cur.execute(f"TRUNCATE {_STAGE}")


def _write_pg(
    driver: Any, cur: Any, customers: list[tuple[Any, ...]], stored: set[str],
    log: list[tuple[Any, ...]],
) -> None:  # fmt: skip
    """New customers straight into the table, changed ones through the staging upsert.

    A customer that another writer inserted since the batch read the table makes the direct
    copy fail; the savepoint then rolls it back and those rows take the upsert too.
    """
    new = [row for row in customers if row[0] not in stored]
    changed = [row for row in customers if row[0] in stored]
    if new:
        try:
            with driver.transaction():
                _copy(cur, "customer", _COLS, new)
        except Exception as exc:  # psycopg's UniqueViolation, without importing the driver
            if getattr(exc, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise
            changed += new
    if changed:
        _upsert_pg(cur, changed)
    _copy(cur, "change_log", _LOG_COLS, log)


def _write_sqlite(cur: Any, customers: list[tuple[Any, ...]], log: list[tuple[Any, ...]]) -> None:
    cur.executemany(_SQLITE_UPSERT, customers)
    cur.executemany(_SQLITE_LOG, log)


def upsert_customers(
    driver: Any, dialect: str, records: list[Record], mapping: Mapping,
    plans: dict[tuple[str, ...], CustomerPlan], *, dry_run: bool = False,
) -> BatchResult:  # fmt: skip
    """Import one batch of customer records in one transaction on ``driver``.

    Args:
        driver: The DB-API connection (sqlite3 in autocommit mode, or psycopg).
        dialect: ``"sqlite"`` or ``"postgresql"``.
        records: The batch, in file order.
        mapping: The import mapping.
        plans: Plan cache shared by the batches of one import.
        dry_run: Roll the transaction back instead of committing.

    Returns:
        The batch's counts and rejects.
    """
    keys = sorted({key_of("customers", r.values, mapping) for r in records} - {""})
    result = BatchResult()
    if dialect == "postgresql":  # psycopg: the first statement opens the transaction
        with driver.cursor() as cur:
            try:
                _batch(driver, cur, dialect, records, mapping, plans, keys, result)
            except BaseException:
                driver.rollback()
                raise
        if dry_run:
            driver.rollback()
        else:
            driver.commit()
        return result
    cur = driver.cursor()
    try:
        cur.execute("BEGIN IMMEDIATE")
        try:
            _batch(driver, cur, dialect, records, mapping, plans, keys, result)
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("ROLLBACK" if dry_run else "COMMIT")
    finally:
        cur.close()
    return result


def _batch(
    driver: Any, cur: Any, dialect: str, records: list[Record], mapping: Mapping,
    plans: dict[tuple[str, ...], CustomerPlan], keys: list[str], result: BatchResult,
) -> None:  # fmt: skip
    existing = _existing(cur, dialect, keys)
    stored = set(existing)
    written = _classify(records, mapping, plans, existing, result)
    if not written:
        return
    seqs = _reserve(cur, len(written))
    now_dt = datetime.now(UTC)
    if dialect == "postgresql":
        customers, log = _tuples(written, seqs, now_dt)
        _write_pg(driver, cur, customers, stored, log)
    else:
        customers, log = _tuples(written, seqs, now_dt.strftime("%Y-%m-%d %H:%M:%S.%f"))
        _write_sqlite(cur, customers, log)
