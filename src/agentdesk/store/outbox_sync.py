"""The sync engine's side of the outbox: batches, push results, acks, attention, pruning.

States (docs/sync.md): ``pending`` → ``inflight`` (sent) → after the push result:

* ``applied``/``duplicate`` → stays ``inflight`` with ``server_seq`` set ("acked, pending
  pull"); :func:`ack_through` (called by ``apply_changes``) turns it ``acked`` once the pull
  cursor passed that ``server_seq``;
* ``applied_with_conflict`` → ``conflict`` (never retried), ``rejected`` → ``rejected``: both
  stay in "Needs attention" until dismissed;
* ``retry`` → back to ``pending`` with ``attempts + 1`` and ``next_attempt_at``.

Every function takes a writer connection and commits its own transaction, except
:func:`ack_through`, which runs inside the caller's (the page apply).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from agentdesk.protocol import PushResult
from agentdesk.protocol.raw import RawPushItem
from agentdesk.store.codec import now_text, ts_text
from agentdesk.store.db import transaction
from agentdesk.store.outbox import OUTBOX_COLUMNS, OutboxEntry

__all__ = [
    "OutboxCounts",
    "ack_through",
    "apply_push_results",
    "counts",
    "dismiss",
    "needs_attention",
    "prune_acked",
    "requeue_inflight",
    "take_batch",
]


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """Badge figures: items not yet on the server, open conflicts, open rejections."""

    waiting: int
    conflicts: int
    rejected: int


_TAKE = (
    "SELECT id, client_seq, kind, payload_schema, CAST(payload AS BLOB), claim_id, fence, "
    "next_attempt_at, length(payload) FROM outbox WHERE state = 'pending' "
    "ORDER BY client_seq LIMIT ?"
)


def take_batch(
    conn: sqlite3.Connection,
    limit: int = 500,
    max_bytes: int = 256_000,
    now: datetime | None = None,
) -> list[RawPushItem]:
    """The next batch to push, marked in flight: one commit.

    The batch is the pending items in ``client_seq`` order, at most ``limit`` and ``max_bytes``
    (the first item always goes, even when bigger), stopping before the first item still
    backing off (``next_attempt_at`` in the future) so a later item never overtakes it.

    The items come as push items with the payload left as the JSON text stored when the
    item was recorded (nothing is decoded and encoded again). The batch is a prefix of the
    pending items in ``client_seq`` order, so one range update over the ``(state,
    client_seq)`` index marks exactly the batch. With nothing pending, the write lock is
    not taken.
    """
    if conn.execute("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").fetchone() is None:
        return []
    with transaction(conn):
        rows = conn.execute(_TAKE, (limit,)).fetchall()
        taken = _batch_prefix(rows, 7, max_bytes, now)
        if not taken:
            return []
        conn.execute(
            "UPDATE outbox SET state = 'inflight' WHERE state = 'pending' AND client_seq <= ?",
            (rows[taken - 1][1],),
        )
    raw = msgspec.Raw
    return [
        RawPushItem(id=r[0], seq=r[1], kind=r[2], schema=r[3], payload=raw(r[4]),
                    claim_id=r[5], fence=r[6])
        for r in rows[:taken]
    ]  # fmt: skip


def _batch_prefix(
    rows: Sequence[Sequence[Any]], next_at_col: int, max_bytes: int, now: datetime | None
) -> int:
    """How many of ``rows`` (pending, in ``client_seq`` order, payload length last) go out:
    up to the first one still backing off or past ``max_bytes`` (the first always goes)."""
    at = ts_text(now or datetime.now(UTC))
    size = 0
    for taken, row in enumerate(rows):
        next_at, nbytes = row[next_at_col], row[-1]
        if next_at is not None and at is not None and next_at > at:
            return taken
        size += nbytes
        if taken and size > max_bytes:
            return taken
    return len(rows)


def requeue_inflight(conn: sqlite3.Connection) -> int:
    """After a crash/restart: items sent but never answered go back to ``pending``.

    Resending is safe (the server dedupes by id). Items the server already applied
    (``server_seq`` set) stay as they are.

    Returns:
        How many items were requeued.
    """
    with transaction(conn):
        cur = conn.execute(
            "UPDATE outbox SET state = 'pending' WHERE state = 'inflight' AND server_seq IS NULL"
        )
        return cur.rowcount


def apply_push_results(
    conn: sqlite3.Connection, results: Sequence[PushResult], now: datetime | None = None
) -> None:
    """Record the per-item results of one push (docs/sync.md), in one transaction."""
    at = now or datetime.now(UTC)
    with transaction(conn):
        if len({r.id for r in results}) < len(results):  # an id twice: the later one wins
            for result in results:
                _apply_one(conn, result, at)
            return
        # each id once: the rows are distinct, so the stored items go in one statement per table
        done: list[PushResult] = []
        others: list[PushResult] = []
        for result in results:
            (done if result.status in _STORED else others).append(result)
        if done:
            _apply_stored(conn, done, at)
        for result in others:
            _apply_one(conn, result, at)


_STORED = ("applied", "duplicate", "applied_with_conflict")
_OUTBOX_STORED = (
    "UPDATE outbox SET state = ?, server_seq = ?, result = ?, last_error = NULL, "
    "acked_at = CASE WHEN ? = 'acked' THEN ? ELSE acked_at END WHERE id = ?"
)
# the usual answer: the item was sent (``inflight``) and stays so with its ``server_seq``; not
# naming ``state`` in the SET list spares SQLite rewriting the item's (state, client_seq) index
# entry, about half the cost of the statement
_OUTBOX_APPLIED = (
    "UPDATE outbox SET server_seq = ?, result = ?, last_error = NULL "
    "WHERE id = ? AND state = 'inflight'"
)
_CONTACT_STORED = (
    "UPDATE contact SET result = ?, server_seq = ? WHERE contact_id = ? AND origin = 'local'"
)


def _apply_stored(conn: sqlite3.Connection, results: Sequence[PushResult], at: datetime) -> None:
    """The items the server stored (or had stored): one ``executemany`` per table.

    An applied item still in flight keeps its state and gets its ``server_seq`` in the short
    statement; every other one (a conflict, an answer without ``server_seq``, an item no longer
    in flight) goes through the full statement, so each row ends exactly as
    :func:`_apply_one` would leave it.
    """
    when = ts_text(at)
    applied: list[tuple[object, ...]] = []
    outbox: list[tuple[object, ...]] = []
    contacts: list[tuple[object, ...]] = []
    for result in results:
        body = _body(result)
        state = _stored_state(result)
        if state == "inflight":
            applied.append((result.server_seq, body, result.id))
        else:
            outbox.append((state, result.server_seq, body, state, when, result.id))
        contacts.append((body, result.server_seq, result.id))
    if applied and conn.executemany(_OUTBOX_APPLIED, applied).rowcount < len(applied):
        # one of them was no longer in flight: all of them again through the full statement
        # (the same values for the rows already written; the ids are distinct)
        outbox += [("inflight", seq, body, "inflight", when, id_) for seq, body, id_ in applied]
    if outbox:
        conn.executemany(_OUTBOX_STORED, outbox)
    conn.executemany(_CONTACT_STORED, contacts)


def _body(result: PushResult) -> str:
    """The result as stored in ``outbox.result`` and ``contact.result`` (compact JSON)."""
    return _ENCODE(result).decode()


_ENCODE = msgspec.json.Encoder().encode


def _stored_state(result: PushResult) -> str:
    if result.status == "applied_with_conflict":
        return "conflict"
    return "inflight" if result.server_seq is not None else "acked"


def _apply_one(conn: sqlite3.Connection, result: PushResult, at: datetime) -> None:
    body = _body(result)
    status = result.status
    if status in _STORED:
        state = _stored_state(result)
        conn.execute(
            _OUTBOX_STORED, (state, result.server_seq, body, state, ts_text(at), result.id)
        )
        conn.execute(_CONTACT_STORED, (body, result.server_seq, result.id))
    elif status == "rejected":
        error = result.error
        text = f"{error.code}: {error.message}" if error else "rejected"
        conn.execute(
            "UPDATE outbox SET state = 'rejected', result = ?, last_error = ? WHERE id = ?",
            (body, text, result.id),
        )
    else:
        _schedule_retry(conn, result, at, body)


def _schedule_retry(conn: sqlite3.Connection, result: PushResult, at: datetime, body: str) -> None:
    error = result.error
    delay_ms = error.retry_after_ms if error and error.retry_after_ms else 1000
    text = f"{error.code}: {error.message}" if error else "retry"
    conn.execute(
        "UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?, "
        "last_error = ?, result = ? WHERE id = ? AND state IN ('pending', 'inflight')",
        (ts_text(at + timedelta(milliseconds=delay_ms)), text, body, result.id),
    )


def ack_through(conn: sqlite3.Connection, server_seq: int, now: datetime | None = None) -> int:
    """Mark applied items with ``server_seq <= server_seq`` as ``acked`` (caller's transaction).

    Returns:
        How many items became acked.
    """
    cur = conn.execute(
        "UPDATE outbox SET state = 'acked', acked_at = ? "
        "WHERE state = 'inflight' AND server_seq IS NOT NULL AND server_seq <= ?",
        (ts_text(now or datetime.now(UTC)), server_seq),
    )
    return cur.rowcount


def needs_attention(conn: sqlite3.Connection) -> list[OutboxEntry]:
    """Conflicts and rejections nobody has dismissed, oldest first."""
    rows = conn.execute(
        f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state IN ('conflict', 'rejected') "
        "AND dismissed_at IS NULL ORDER BY client_seq"
    ).fetchall()
    return [OutboxEntry.from_db(r) for r in rows]


def dismiss(conn: sqlite3.Connection, entry_id: str) -> bool:
    """Hide a conflict/rejection from "Needs attention"; ``False`` if there was none."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE outbox SET dismissed_at = ? WHERE id = ? AND state IN ('conflict', 'rejected') "
            "AND dismissed_at IS NULL",
            (now_text(), entry_id),
        )
        return cur.rowcount == 1


def counts(conn: sqlite3.Connection) -> OutboxCounts:
    """Items not yet applied by the server, open conflicts, open rejections."""
    # one range of the (state, client_seq) index per state: acked items (kept 30 days, most of
    # the table) are never read; every saved outcome asks this
    row = conn.execute(
        "SELECT "
        "(SELECT count(*) FROM outbox WHERE state = 'pending') + "
        "(SELECT count(*) FROM outbox WHERE state = 'inflight' AND server_seq IS NULL), "
        "(SELECT count(*) FROM outbox WHERE state = 'conflict' AND dismissed_at IS NULL), "
        "(SELECT count(*) FROM outbox WHERE state = 'rejected' AND dismissed_at IS NULL)"
    ).fetchone()
    return OutboxCounts(waiting=row[0], conflicts=row[1], rejected=row[2])


def prune_acked(conn: sqlite3.Connection, days: int = 30, now: datetime | None = None) -> int:
    """Delete items acked more than ``days`` ago (docs/sync.md); returns how many."""
    cutoff = ts_text((now or datetime.now(UTC)) - timedelta(days=days))
    with transaction(conn):
        cur = conn.execute(
            "DELETE FROM outbox WHERE state = 'acked' AND acked_at IS NOT NULL AND acked_at < ?",
            (cutoff,),
        )
        return cur.rowcount
