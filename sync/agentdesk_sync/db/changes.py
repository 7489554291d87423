"""The change feed: append ``change_log`` rows with commit-ordered sequence numbers (docs/sync.md).

:func:`append_changes` is the last thing a write does (a push batch or claim request does it at
the end of its savepoint in the service's group commit, see :mod:`agentdesk_sync.writer`):

1. ``UPDATE sequencer SET value = value + n WHERE name = 'change' RETURNING value`` reserves
   ``n`` numbers. On PostgreSQL the row lock it takes is held until the transaction commits (a
   write group takes it first and keeps it to its ``COMMIT``), so another writer waits there
   and gets larger numbers only after the first one committed: sequence order equals commit
   order. On SQLite the single writer lock gives the same guarantee.
   A write group that tracks the sequencer (:func:`lock_sequencer` with ``track``) knows the
   numbers already and sends a guarded ``UPDATE`` in one pipeline with the rows (:func:`pipelined`).
2. The ``change_log`` rows are inserted with those numbers (PostgreSQL ``COPY`` for big batches).
3. The changed rows get ``row_seq`` (``contact.server_seq`` for contacts) = their newest number.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import psycopg
from sqlalchemy import Connection, Engine, Table, event, text
from sqlalchemy.orm import Session

from agentdesk_sync.db.models import (
    Campaign,
    Contact,
    Customer,
    Holding,
    MarketingOrder,
    Offer,
)

__all__ = [
    "COPY_THRESHOLD",
    "LOCK_SEQUENCER",
    "ChangeRow",
    "append_changes",
    "insert_log",
    "lock_sequencer",
    "pipelined",
    "reserve_seqs",
    "sqlite_ts",
    "track_sequencer",
]

LOCK_SEQUENCER = "SELECT value FROM sequencer WHERE name = 'change' FOR UPDATE"

_IDLE = psycopg.pq.TransactionStatus.IDLE
_SEQ = "agentdesk_seq"  # conn.info: the sequencer value as this transaction left it (tracked)
_GUARDS = "agentdesk_seq_guards"  # conn.info: tracked reservations waiting in a pipeline
# something bumped the sequencer behind the tracker's back: fail rather than reuse numbers
_MOVED = "the change sequencer moved under a tracked transaction"
_BUMP = "UPDATE sequencer SET value = %s WHERE name = 'change' AND value = %s"
COPY_THRESHOLD = 500  # change-log rows from which insert_log uses COPY on PostgreSQL
_STAMP_ONE_BY_ONE = 64
# entity -> (table, key column, stamped column)
_SINGLE_KEY: dict[str, tuple[Table, str, str]] = {
    "customer": (Customer.__table__, "customer_id", "row_seq"),  # type: ignore[dict-item]
    "holding": (Holding.__table__, "holding_id", "row_seq"),  # type: ignore[dict-item]
    "campaign": (Campaign.__table__, "campaign_id", "row_seq"),  # type: ignore[dict-item]
    "offer": (Offer.__table__, "offer_id", "row_seq"),  # type: ignore[dict-item]
    "order": (MarketingOrder.__table__, "order_id", "row_seq"),  # type: ignore[dict-item]
    "contact": (Contact.__table__, "contact_id", "server_seq"),  # type: ignore[dict-item]
}


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change to publish.

    Attributes:
        entity: Pull entity name (``customer``, ``holding``, ``usage``, ``target``, …).
        entity_id: Its id on the wire (``campaign_id:customer_id`` for targets).
        op: ``put`` (row is the new state) or ``remove``.
        row: The wire row for ``put``; None for ``remove``.
        region_code: Region scope of the change; None means every scope.
        customer_id: The customer it belongs to, for portfolio scopes.
    """

    entity: str
    entity_id: str
    op: Literal["put", "remove"] = "put"
    row: dict[str, Any] | None = None
    region_code: str | None = None
    customer_id: str | None = None


def lock_sequencer(conn: Connection, *, track: bool = False) -> None:
    """On PostgreSQL, take the sequencer row lock now (held until commit); SQLite: nothing.

    Every writer that appends changes takes this lock FIRST, before any customer, claim or
    campaign row: all of them then lock in one order (sequencer, then rows) and queue on the
    sequencer instead of deadlocking with a write group that holds it and waits for their rows.
    On SQLite the write transaction itself is exclusive, so there is nothing to order.

    When it is the transaction's first statement on a (synchronous) psycopg connection, it goes
    out in one pipeline with the ``BEGIN`` psycopg sends first: one round trip, not two.

    Args:
        conn: The connection of the transaction.
        track: Remember the value the lock read (a write group does; see
            :func:`track_sequencer`): the transaction's reservations then know their numbers
            without waiting for an ``UPDATE … RETURNING``, so they can go out in one pipeline
            with the rows that carry them. Only for a transaction whose every reservation goes
            through :func:`reserve_seqs`.
    """
    if conn.dialect.name != "postgresql":
        return
    raw: Any = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        conn.exec_driver_sql(LOCK_SEQUENCER)
        return
    with raw.cursor() as cur:
        if raw.info.transaction_status == _IDLE:
            with raw.pipeline():
                cur.execute(LOCK_SEQUENCER)
        else:
            cur.execute(LOCK_SEQUENCER)
        row = cur.fetchone()
    if track and row is not None and event.contains(conn.engine, "rollback_savepoint", _forget):
        conn.info[_SEQ] = int(row[0])


def track_sequencer(engine: Engine) -> None:
    """Let ``engine``'s write groups track the sequencer (``lock_sequencer(track=True)``).

    The remembered value is dropped whenever the transaction or a savepoint of it ends, so a
    rolled-back reservation is never counted; and every tracked reservation's ``UPDATE`` only
    matches the row at the value it expects, so a number can never be handed out twice.
    """
    for name in ("begin", "commit", "rollback"):
        if not event.contains(engine, name, _forget_all):
            event.listen(engine, name, _forget_all)
    if not event.contains(engine, "rollback_savepoint", _forget):
        event.listen(engine, "rollback_savepoint", _forget)


def _forget_all(conn: Connection) -> None:
    conn.info.pop(_SEQ, None)


def _forget(conn: Connection, _name: Any, _context: Any) -> None:
    conn.info.pop(_SEQ, None)


def reserve_seqs(conn: Connection, count: int) -> list[int]:
    """Take ``count`` consecutive change numbers (holding the sequencer lock until commit).

    In a transaction that tracks the sequencer (:func:`lock_sequencer` with ``track``) the
    numbers are known at once and the ``UPDATE`` may wait in a pipeline (see
    :func:`pipelined`); otherwise ``UPDATE … RETURNING`` says them.
    """
    tracked = conn.info.get(_SEQ)
    if tracked is not None:
        new = tracked + count
        cur: Any = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cur.execute(_BUMP, (new, tracked))
        conn.info[_SEQ] = new
        guards = conn.info.get(_GUARDS)
        if guards is None:
            _check_bump(cur)
        else:
            guards.append(cur)  # checked when the pipeline has run
        return list(range(tracked + 1, new + 1))
    last = conn.execute(
        text("UPDATE sequencer SET value = value + :n WHERE name = 'change' RETURNING value"),
        {"n": count},
    ).scalar_one()
    return list(range(int(last) - count + 1, int(last) + 1))


def _check_bump(cur: Any) -> None:
    try:
        moved = cur.rowcount != 1
    finally:
        cur.close()
    if moved:
        raise RuntimeError(_MOVED)


@contextlib.contextmanager
def pipelined(conn: Connection, wanted: bool = True) -> Iterator[None]:
    """Send the statements of the block together (a psycopg pipeline: one round trip).

    Only in a transaction that tracks the sequencer (its reservations need no answer) on a
    synchronous psycopg connection, and when ``wanted`` (COPY cannot be pipelined); elsewhere
    the block just runs. The statements of the block must go to the driver connection (not
    through SQLAlchemy, which would read results that are not there yet); the tracked
    reservations made in it are checked when it ends.
    """
    raw: Any = conn.connection.driver_connection
    if (
        not wanted
        or _SEQ not in conn.info
        or _GUARDS in conn.info
        or not isinstance(raw, psycopg.Connection)
    ):
        yield
        return
    guards: list[Any] = []
    conn.info[_GUARDS] = guards
    try:
        with raw.pipeline():
            yield
    except BaseException:
        for cur in guards:
            cur.close()
        raise
    finally:
        del conn.info[_GUARDS]
    moved = [cur.rowcount != 1 for cur in guards]
    for cur in guards:
        cur.close()
    if any(moved):
        raise RuntimeError(_MOVED)


def append_changes(
    session: Session,
    changes: Sequence[ChangeRow],
    then: Callable[[Connection, list[int]], None] | None = None,
) -> list[int]:
    """Publish ``changes`` in this transaction; call it right before ``commit()``.

    Args:
        session: The session whose transaction made the changes.
        changes: The changes in the order they should be applied by clients.
        then: Called with the numbers right after the log rows, in their pipeline (the
            service's ``NOTIFY`` goes out in the same round trip); not called without changes.

    Returns:
        The ``server_seq`` given to each change, in the same order.
    """
    if not changes:
        return []
    session.flush()
    conn = session.connection()
    with pipelined(conn, len(changes) < COPY_THRESHOLD):  # numbers and log rows: one trip
        seqs = reserve_seqs(conn, len(changes))
        insert_log(conn, changes, seqs)
        if then is not None:
            then(conn, seqs)
    _stamp(conn, changes, seqs)
    return seqs


def insert_log(
    conn: Connection, changes: Sequence[ChangeRow], seqs: Sequence[int], now: datetime | None = None
) -> None:
    """Insert the ``change_log`` rows of ``changes`` with the numbers ``seqs`` (no stamping).

    For writers that already stored the changed rows with their numbers (the push ledger
    inserts each contact with its ``server_seq``); :func:`append_changes` does the rest.
    """
    now = now or datetime.now(UTC)
    pg = conn.dialect.name == "postgresql"
    if pg and len(changes) >= COPY_THRESHOLD:
        _copy_log(conn, changes, seqs, now)
        return
    # the driver's own executemany: the rows are plain values, SQLAlchemy's per-row work is waste
    created: object = now if pg else sqlite_ts(now)
    rows = [
        (seq, c.entity, c.entity_id, c.op, c.region_code, c.customer_id,
         None if c.row is None else orjson.dumps(c.row).decode(), created)
        for c, seq in zip(changes, seqs, strict=True)
    ]  # fmt: skip
    # the DB-API connection (SQLAlchemy's adapter on async engines): its cursor is synchronous
    cur: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(_PG_LOG if pg else _SQLITE_LOG, rows)
    finally:
        cur.close()


_SQLITE_LOG = (
    "INSERT INTO change_log (server_seq, entity, entity_id, op, region_code, customer_id, row,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_PG_LOG = (
    "INSERT INTO change_log (server_seq, entity, entity_id, op, region_code, customer_id, row,"
    " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
)


def sqlite_ts(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (so raw and ORM writes compare equal):
    ``YYYY-MM-DD HH:MM:SS.ffffff``, the datetime's own fields without any offset (``isoformat``
    puts the offset last, after the 26 characters kept; years have four digits)."""
    return value.isoformat(" ", "microseconds")[:26]


def _copy_log(
    conn: Connection, changes: Sequence[ChangeRow], seqs: Sequence[int], now: datetime
) -> None:
    raw: Any = conn.connection.driver_connection
    sql = (
        "COPY change_log (server_seq, entity, entity_id, op, region_code, customer_id, row,"
        " created_at) FROM STDIN"
    )
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for change, seq in zip(changes, seqs, strict=True):
            row = None if change.row is None else orjson.dumps(change.row).decode()
            copy.write_row(
                (seq, change.entity, change.entity_id, change.op, change.region_code,
                 change.customer_id, row, now)
            )  # fmt: skip


def _stamp(conn: Connection, changes: Sequence[ChangeRow], seqs: list[int]) -> None:
    newest: dict[tuple[str, str], int] = {}
    for change, seq in zip(changes, seqs, strict=True):
        if change.op == "put":
            newest[(change.entity, change.entity_id)] = seq
    by_entity: dict[str, dict[str, int]] = {}
    for (entity, entity_id), seq in newest.items():
        by_entity.setdefault(entity, {})[entity_id] = seq
    for entity, ids in by_entity.items():  # one statement per entity kind
        if entity in _SINGLE_KEY:
            _stamp_single(conn, entity, ids)
        elif entity == "target":
            _stamp_targets(conn, ids)


def _stamp_single(conn: Connection, entity: str, ids: dict[str, int]) -> None:
    table, key, column = _SINGLE_KEY[entity]
    if conn.dialect.name == "postgresql" and len(ids) > _STAMP_ONE_BY_ONE:
        stmt = text(
            f"UPDATE {table.name} AS t SET {column} = v.seq"
            " FROM unnest(CAST(:ids AS text[]), CAST(:seqs AS bigint[])) AS v(id, seq)"
            f" WHERE t.{key} = v.id"
        )
        conn.execute(stmt, {"ids": list(ids), "seqs": list(ids.values())})
        return
    stmt = text(f"UPDATE {table.name} SET {column} = :seq WHERE {key} = :id")
    conn.execute(stmt, [{"seq": seq, "id": eid} for eid, seq in ids.items()])


def _stamp_targets(conn: Connection, ids: dict[str, int]) -> None:
    params = []
    for entity_id, seq in ids.items():
        campaign_id, _, customer_id = entity_id.partition(":")
        params.append({"seq": seq, "k": campaign_id, "c": customer_id})
    stmt = text(
        "UPDATE target_member SET row_seq = :seq WHERE campaign_id = :k AND customer_id = :c"
    )
    conn.execute(stmt, params)
