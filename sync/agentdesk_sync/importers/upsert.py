"""Bulk upsert of customer batches on the raw driver connection (COPY on PostgreSQL).

One transaction per batch:

1. the stored rows of the batch's keys are read (as JSON text, parsed with orjson);
2. every record is prepared (:mod:`agentdesk_sync.importers.customers`); equal rows are
   ``unchanged`` and write nothing; a value longer than its table column is rejected;
3. on PostgreSQL the written rows are copied once, as JSON, into a temporary staging table
   (no WAL, parsed once by the server); only then are the change numbers reserved (the
   sequencer row lock, held until commit, keeps sequence order equal to commit order, and other
   writers now wait only for the set-based statements that follow); new customers move with a
   plain ``INSERT … SELECT`` (in a savepoint: should another writer have inserted one of them
   meanwhile, they take the upsert too), stored ones with ``INSERT … ON CONFLICT DO UPDATE …
   WHERE the row differs``, and the ``change_log`` rows with one more ``INSERT … SELECT``; the
   table columns are read from the JSON by the server, and each customer's ``row_seq`` is its
   newest change number;
4. on SQLite the numbers are reserved the same way and the rows written with two
   ``executemany`` statements.

The change-log rows are reference entries: entity, key, region and number but no copy of the
row (``row`` is NULL); the pull sends the customer's current row for them (docs/sync.md). Copying
every row into the log doubled what a big import wrote.

A dry run does all of it and rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from agentdesk_sync.db.changes import sqlite_ts
from agentdesk_sync.db.models import Customer
from agentdesk_sync.importers.batch import BatchResult, Reject
from agentdesk_sync.importers.customers import CustomerPlan, plan_for
from agentdesk_sync.importers.fields import FieldError
from agentdesk_sync.importers.kinds import Prepared, key_of
from agentdesk_sync.importers.mapping import Mapping
from agentdesk_sync.importers.reader import Record

__all__ = ["Staged", "batch_keys", "stage_batch", "upsert_customers", "write_staged"]

Row = dict[str, Any]
_COLS = ("customer_id", "msisdn", "name", "id_type", "id_number", "region_code", "segment_id",
         "account_manager_id", "contact_address", "row", "row_seq", "updated_at")  # fmt: skip
_LOG_COLS = ("server_seq", "entity", "entity_id", "op", "region_code", "customer_id", "row",
             "created_at")  # fmt: skip
_LIMITS = tuple(
    (c, int(Customer.__table__.c[c].type.length))  # type: ignore[attr-defined]
    for c in _COLS[1:9]
)
_RESERVE = "UPDATE sequencer SET value = value + {n} WHERE name = 'change' RETURNING value"
_STAGE = "import_customer_stage"
_STAGE_COLS = "ord, last, stored, key, region, row"
_UNIQUE_VIOLATION = "23505"
# one row per written record, in file order: its position, whether it is the last one of its key
# in the batch (only that one is stored), whether the key was stored before, its key and region
# (for the change log, which then never reads the JSON), and the JSON row
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (ord integer, last boolean, stored boolean,"
    " key text, region text, row jsonb) ON COMMIT DELETE ROWS"
)
# the attributes are taken out of the row once per row (OFFSET 0 keeps the planner from
# inlining it, which would decompress the stored JSON once per column)
_ATTRS = "CROSS JOIN LATERAL (SELECT s.row->'attributes' AS a OFFSET 0) x"
_PG_VALUES = ", ".join(f"x.a->>'{c}'" for c in _COLS[:9]) + ", s.row, %(base)s + s.ord, %(now)s"
_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLS[1:])
_PG_INSERT = (
    f"INSERT INTO customer ({', '.join(_COLS)}) SELECT {_PG_VALUES} FROM {_STAGE} s {_ATTRS}"
    " WHERE s.last AND {which} ORDER BY s.ord"
)
_PG_UPSERT = (
    _PG_INSERT + f" ON CONFLICT (customer_id) DO UPDATE SET {_SET}"
    " WHERE customer.row IS DISTINCT FROM EXCLUDED.row"
)
# reference entries: no row (the pull sends the customer's current row, docs/sync.md)
_PG_LOG = (
    f"INSERT INTO change_log ({', '.join(_LOG_COLS)}) SELECT %(base)s + s.ord, 'customer',"
    f" s.key, 'put', s.region, s.key, NULL, %(now)s FROM {_STAGE} s ORDER BY s.ord"
)
_SET_SQLITE = ", ".join(f"{c} = excluded.{c}" for c in _COLS[1:])
_SQLITE_UPSERT = (
    f"INSERT INTO customer ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))})"
    f" ON CONFLICT (customer_id) DO UPDATE SET {_SET_SQLITE}"
)
_SQLITE_LOG = f"INSERT INTO change_log ({', '.join(_LOG_COLS)}) VALUES ({', '.join('?' * 8)})"


def _reject(record: Record, mapping: Mapping, exc: FieldError) -> Reject:
    column = exc.field
    value = record.values.get(column, record.values.get(mapping.source_of(column), ""))
    return Reject(record.line, column, "" if value is None else str(value), exc.reason)


def _check_lengths(prepared: Prepared, mapping: Mapping) -> None:
    """Reject a value longer than its table column (PostgreSQL would fail the whole batch)."""
    columns = prepared.columns
    for name, limit in _LIMITS:
        value = columns[name]
        if value is not None and len(value) > limit:
            raise FieldError(mapping.source_of(name), f"longer than {limit} characters")


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
            _check_lengths(prepared, mapping)
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


def _sqlite_tuples(
    written: list[Prepared], seqs: range, now: str
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
                    None, now))  # fmt: skip  # a reference entry (docs/sync.md)
    return list(customers.values()), log


def _reserve(cur: Any, count: int) -> range:
    cur.execute(_RESERVE.format(n=int(count)))
    last = int(cur.fetchone()[0])
    return range(last - count + 1, last + 1)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str | None) -> bytes:
    """A text value in ``COPY``'s text format (``\\N`` for NULL)."""
    if value is None:
        return b"\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.translate(_COPY_ESCAPES)
    return value.encode()


def stage_payload(written: list[Prepared], stored: set[str]) -> bytes:
    """The ``COPY … FROM STDIN`` text of the staging rows (``ord, last, stored, key, region,
    row``).

    JSON text has no raw tab or line break (orjson escapes them), so only its backslashes need
    doubling for PostgreSQL's text format.
    """
    last = {p.key: i for i, p in enumerate(written)}
    parts = []
    for i, prepared in enumerate(written):
        key = prepared.key
        parts.append(b"%d\t%s\t%s\t%s\t%s\t%s\n" % (
            i, b"t" if last[key] == i else b"f", b"t" if key in stored else b"f",
            _copy_text(key), _copy_text(prepared.columns["region_code"]),
            orjson.dumps(prepared.row).replace(b"\\", b"\\\\"),
        ))  # fmt: skip
    return b"".join(parts)


def _write_pg(
    driver: Any, cur: Any, payload: bytes, count: int, ready: Callable[[], None] | None = None
) -> None:
    """Stage the rows, then take the change numbers and move them with set-based statements.

    The sequencer lock (held until commit) is taken only after the rows are on the server, so
    other writers wait for the two ``INSERT … SELECT`` statements only. New customers go in
    with a plain insert in a savepoint: should another writer have inserted one of them
    meanwhile, that insert fails and they take the upsert too.
    """
    cur.execute(_CREATE_STAGE)
    with cur.copy(f"COPY {_STAGE} ({_STAGE_COLS}) FROM STDIN") as copy:
        copy.write(payload)
    if ready is not None:
        ready()
    seqs = _reserve(cur, count)
    params = {"base": seqs.start, "now": datetime.now(UTC)}
    upsert_new = False
    try:
        with driver.transaction():
            cur.execute(_PG_INSERT.replace("{which}", "NOT s.stored"), params)
    except Exception as exc:  # psycopg's UniqueViolation, without importing the driver
        if getattr(exc, "sqlstate", None) != _UNIQUE_VIOLATION:
            raise
        upsert_new = True
    which = "TRUE" if upsert_new else "s.stored"
    cur.execute(_PG_UPSERT.replace("{which}", which), params)
    cur.execute(_PG_LOG, params)


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
    if dialect == "postgresql":
        _write_pg(driver, cur, stage_payload(written, stored), len(written))
        return
    seqs = _reserve(cur, len(written))
    customers, log = _sqlite_tuples(written, seqs, sqlite_ts(datetime.now(UTC)))
    _write_sqlite(cur, customers, log)


@dataclass(frozen=True, slots=True)
class Staged:
    """A PostgreSQL batch prepared on the reading connection, ready for :func:`write_staged`."""

    result: BatchResult
    payload: bytes
    count: int
    keys: frozenset[str]


def batch_keys(records: list[Record], mapping: Mapping) -> frozenset[str]:
    """The customer keys of a batch (without the empty key of a record that lacks one)."""
    return frozenset(key_of("customers", r.values, mapping) for r in records) - {""}


def stage_batch(
    cur: Any, records: list[Record], mapping: Mapping,
    plans: dict[tuple[str, ...], CustomerPlan], keys: frozenset[str],
) -> Staged:  # fmt: skip
    """Read the stored rows of a batch (on ``cur``, autocommit), prepare and encode it."""
    result = BatchResult()
    existing = _existing(cur, "postgresql", sorted(keys))
    stored = set(existing)
    written = _classify(records, mapping, plans, existing, result)
    payload = stage_payload(written, stored) if written else b""
    return Staged(result, payload, len(written), keys)


def write_staged(
    driver: Any, staged: Staged, *, dry_run: bool = False, ready: Callable[[], None] | None = None
) -> None:
    """Write a staged batch in one transaction on ``driver`` (another connection than the
    reader's, so the next batch can be prepared meanwhile).

    ``ready`` is called after the rows are staged and before the change numbers are taken: it
    returns once the batch before this one has committed (it raises if that one failed), so
    batches take their numbers in file order even while two of them are being copied.
    """
    if not staged.count:
        if ready is not None:
            ready()
        return
    with driver.cursor() as cur:
        try:
            _write_pg(driver, cur, staged.payload, staged.count, ready)
        except BaseException:
            driver.rollback()
            raise
    if dry_run:
        driver.rollback()
    else:
        driver.commit()
