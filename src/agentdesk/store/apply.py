"""Applying pulled pages to the cache (docs/sync.md).

:func:`apply_changes` applies one page in ONE transaction: upserts (only when the incoming
``row_seq`` is at least the local one), removes, the search index (by triggers), acks of
outbox items the page covers, and the new cursor. A crash mid-page leaves the old cursor and
the old rows: the page is simply downloaded again. Usage from the sync thread::

    with db.sync_writer() as w:
        apply_changes(w, page.changes, page.cursor, page.up_to_date)

Rows arrive as the JSON text the service sent (:class:`~agentdesk.protocol.raw.RawChange`);
:func:`prepare_changes` turns a page into upsert parameters without touching the database (the
sync engine calls it on its own thread; a thread of its own did not pay, docs/sync.md
"Overlap"); its rows go in upserts of :data:`ROWS_PER_STATEMENT` rows each. For a full
snapshot wrap the pages in :func:`begin_snapshot` / :func:`finish_snapshot` (bulk mode: FTS
triggers and secondary indexes dropped, rebuilt once at the end, then ANALYZE).
:func:`reset_cache` (on ``reset_required``) clears the cache tables and NEVER the outbox.
"""

from __future__ import annotations

import gc
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

import msgspec
import orjson

from agentdesk.protocol import Change
from agentdesk.protocol.raw import NULL_ROW, RawChange
from agentdesk.store.bulk import drop_for_bulk, in_bulk_mode, restore_after_bulk
from agentdesk.store.codec import now_text
from agentdesk.store.db import transaction
from agentdesk.store.outbox_sync import ack_through
from agentdesk.store.rows import DELETES, PARAMS, UPSERTS, Raw, upsert_rows
from agentdesk.store.tables import CACHE_TABLES

__all__ = [
    "DEFAULT_CHECKPOINT_PAGES",
    "DEFAULT_STREAM",
    "ApplyResult",
    "PreparedChanges",
    "SyncPosition",
    "apply_changes",
    "apply_page",
    "begin_snapshot",
    "cache_filling",
    "finish_snapshot",
    "prepare_changes",
    "reset_cache",
    "sync_position",
]

DEFAULT_STREAM = "all"
_REBUILD_CACHE_KIB = -262144  # 256 MB page cache only while finish_snapshot rebuilds
# During a snapshot several pages share a transaction: their dirty pages (new rows, and the
# contact id index, whose leaves random ids touch all over) stay in memory until the commit
# instead of spilling to the WAL and being written again. Restored by finish_snapshot.
_SNAPSHOT_CACHE_KIB = -262144
_DEFAULT_CACHE_KIB = -16000  # what store.db sets on every connection
# A snapshot page dirties ~10 MB (random contact ids touch leaves all over their index); with
# SQLite's default (1000 pages = 4 MB) every commit also checkpoints (copy + fsync). 64 MB lets
# a page that several commits touch go to the main file once. Restored by finish_snapshot.
_SNAPSHOT_CHECKPOINT_PAGES = 16384
DEFAULT_CHECKPOINT_PAGES = 1000  # SQLite's default: the sync writer's outside a snapshot

# Rows per upsert statement (docs/sync.md, "Rows per statement"): a page's rows go in statements
# of this many rows, the rest of each table one by one.
ROWS_PER_STATEMENT = 64


def _variable_limit() -> int:
    """How many ``?`` one statement may bind in the SQLite this process links (999 before 3.32)."""
    with sqlite3.connect(":memory:") as probe:
        return probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


_VARIABLE_LIMIT = _variable_limit()

_CUSTOMER_CHILDREN = (
    "DELETE FROM holding WHERE customer_id = ?",
    "DELETE FROM customer_usage WHERE customer_id = ?",
    "DELETE FROM target_member WHERE customer_id = ?",
    "DELETE FROM marketing_order WHERE customer_id = ?",
    "DELETE FROM claim_active WHERE customer_id = ?",
    "DELETE FROM contact WHERE customer_id = ? AND origin = 'server'",
)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one page did: rows put, rows removed, unknown entities skipped, items acked."""

    put: int
    removed: int
    skipped: int
    acked: int


@dataclass(frozen=True, slots=True)
class SyncPosition:
    """The stored pull position of a stream."""

    cursor: str
    epoch: str
    up_to_date: bool
    max_seq: int
    snapshot_page_key: str | None
    updated_at: str


def apply_changes(
    conn: sqlite3.Connection,
    changes: Sequence[Change | RawChange],
    cursor: str,
    up_to_date: bool,
    *,
    stream: str = DEFAULT_STREAM,
    epoch: str | None = None,
    snapshot_page_key: str | None = None,
) -> ApplyResult:
    """Apply one pulled page and advance the cursor, atomically.

    Args:
        conn: the sync writer connection.
        changes: the page's changes, in seq order; rows as received (:class:`RawChange`,
            stored without a decode/encode round trip) or as dicts (:class:`Change`); a
            :class:`PreparedChanges` brings its parameters already built.
        cursor: the opaque cursor the server returned with the page.
        up_to_date: the server's ``up_to_date`` flag.
        stream: the stream name (v1: one feed, ``all``).
        epoch: the server epoch, when known.
        snapshot_page_key: the resumable snapshot position, if in a snapshot.

    Returns:
        Counts of what was applied.

    Raises:
        StoreError: nothing was applied (the cursor did not move).
    """
    with transaction(conn):
        return apply_page(conn, changes, cursor, up_to_date, stream=stream, epoch=epoch,
                          snapshot_page_key=snapshot_page_key)  # fmt: skip


def apply_page(
    conn: sqlite3.Connection,
    changes: Sequence[Change | RawChange],
    cursor: str,
    up_to_date: bool,
    *,
    stream: str = DEFAULT_STREAM,
    epoch: str | None = None,
    snapshot_page_key: str | None = None,
) -> ApplyResult:
    """:func:`apply_changes` in the caller's transaction (which must be open).

    A snapshot applies several pages in one transaction this way (docs/sync.md): the cursor
    stored is always that of the last page in it, so a crash before the commit resumes from
    the previous commit's cursor and downloads the lost pages again.
    """
    prepared = changes if isinstance(changes, PreparedChanges) else prepare_changes(changes)
    for sql, params in prepared.statements:
        conn.executemany(sql, params)
    removed = _apply_removes(conn, prepared.removes)
    max_seq = _store_position(conn, stream, cursor, up_to_date, prepared.page_max, epoch,
                              snapshot_page_key, prepared.synced_at)  # fmt: skip
    acked = ack_through(conn, max_seq)
    put = sum(len(p) for p in prepared.puts.values())
    return ApplyResult(put=put, removed=removed, skipped=prepared.skipped, acked=acked)


class PreparedChanges(list[Change | RawChange]):
    """A page's changes together with their upsert parameters.

    :func:`prepare_changes` does all the per-row Python work (decoding the indexed columns,
    name keys) without touching the database; :func:`apply_changes` then only executes SQL. It
    is the page's list of changes as well.
    """

    puts: dict[str, list[tuple[object, ...]]]
    statements: list[tuple[str, list[tuple[object, ...]]]]
    removes: dict[str, list[tuple[str, int]]]
    skipped: int
    page_max: int
    synced_at: str


def prepare_changes(changes: Sequence[Change | RawChange]) -> PreparedChanges:
    """Build the upsert parameters of a page (pure: no database).

    The changes are grouped by entity first; each group's rows as received go through one list
    comprehension (the per-row Python work is most of a first sync's client time). Contacts are
    sorted by id, so their inserts walk the contact id index in order instead of all over it.

    The garbage collector is paused while a page is prepared (docs/sync.md, "No collections
    while a page is prepared"): a page builds tens of thousands of parameter tuples, and every
    700 of them started a collection, about 7 % of the sync thread in bench P8. It is resumed
    when the page is done (only if it was running before), so the next allocation collects once.

    Args:
        changes: the page's changes, in seq order.

    Returns:
        The same changes, with the parameters :func:`apply_changes` executes.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _prepare(changes)
    finally:
        if paused:
            gc.enable()


def _prepare(changes: Sequence[Change | RawChange]) -> PreparedChanges:
    synced_at = now_text()
    groups: dict[str, list[Change | RawChange]] = {}
    for ch in changes:  # hot loop (snapshot pages): one lookup and one append per change
        group = groups.get(ch.entity)
        if group is None:
            group = groups[ch.entity] = []
        group.append(ch)
    puts: dict[str, list[tuple[object, ...]]] = {}
    removes: dict[str, list[tuple[str, int]]] = defaultdict(list)
    skipped = 0
    for entity, group in groups.items():
        build = PARAMS.get(entity)
        if build is None:
            skipped += len(group)
            continue
        params = [
            build(ch.id, ch.seq, ch.row, synced_at)  # type: ignore[arg-type]
            for ch in group
            if ch.op == "put" and type(ch.row) is msgspec.Raw and ch.row != NULL_ROW
        ]
        if len(params) < len(group):  # removes, rows as dicts (Change) or null: in page order
            params = []
            for ch in group:
                raw = _wire_json(ch.row)
                if ch.op == "put" and raw is not None:
                    params.append(build(ch.id, ch.seq, raw, synced_at))
                else:
                    removes[entity].append((ch.id, ch.seq))
        if entity == "contact":
            params.sort(key=itemgetter(0))
        if params:
            puts[entity] = params
    prepared = PreparedChanges(changes)
    prepared.puts, prepared.removes, prepared.skipped = puts, removes, skipped
    prepared.statements = [
        s for entity, params in puts.items() for s in _statements(entity, params)
    ]
    prepared.page_max = max([ch.seq for ch in changes], default=0)
    prepared.synced_at = synced_at
    return prepared


def _statements(
    entity: str, params: list[tuple[object, ...]]
) -> list[tuple[str, list[tuple[object, ...]]]]:
    """``params`` as executemany calls: :data:`ROWS_PER_STATEMENT` rows per statement (their
    parameters joined into one tuple; fewer if SQLite binds too few variables for that many),
    the rows left over one by one, all in their order."""
    size = min(ROWS_PER_STATEMENT, _VARIABLE_LIMIT // len(params[0])) if params else 1
    whole = len(params) - len(params) % size
    out: list[tuple[str, list[tuple[object, ...]]]] = []
    if whole:
        joined = chain.from_iterable
        batches = [tuple(joined(params[i : i + size])) for i in range(0, whole, size)]
        out.append((upsert_rows(entity, size), batches))
    if whole < len(params):
        out.append((UPSERTS[entity], params[whole:]))
    return out


def _wire_json(row: object) -> Raw | None:
    """A change's row as JSON bytes (``None`` for no row)."""
    if type(row) is msgspec.Raw:
        return None if len(row) == 4 and bytes(row) == b"null" else row
    return None if row is None else orjson.dumps(row)


def _apply_removes(conn: sqlite3.Connection, removes: dict[str, list[tuple[str, int]]]) -> int:
    count = 0
    for entity, keys in removes.items():
        for key, seq in keys:
            cur = conn.execute(DELETES[entity], (key, seq))
            count += max(cur.rowcount, 0)
            if entity == "customer" and cur.rowcount > 0:
                for sql in _CUSTOMER_CHILDREN:
                    conn.execute(sql, (key,))
    return count


def _store_position(
    conn: sqlite3.Connection,
    stream: str,
    cursor: str,
    up_to_date: bool,
    page_max: int,
    epoch: str | None,
    page_key: str | None,
    at: str,
) -> int:
    row = conn.execute(
        "INSERT INTO sync_state (stream, epoch, cursor, up_to_date, max_seq, snapshot_page_key, "
        "updated_at) VALUES (?, coalesce(?, ''), ?, ?, ?, ?, ?) ON CONFLICT(stream) DO UPDATE SET "
        "epoch = coalesce(?, epoch), cursor = excluded.cursor, up_to_date = excluded.up_to_date, "
        "max_seq = max(max_seq, excluded.max_seq), snapshot_page_key = excluded.snapshot_page_key, "
        "updated_at = excluded.updated_at RETURNING max_seq",
        (stream, epoch, cursor, up_to_date, page_max, page_key, at, epoch),
    ).fetchone()
    return int(row[0])


def sync_position(conn: sqlite3.Connection, stream: str = DEFAULT_STREAM) -> SyncPosition | None:
    """Where the pull of ``stream`` stands, or ``None`` before the first page."""
    row = conn.execute(
        "SELECT cursor, epoch, up_to_date, max_seq, snapshot_page_key, updated_at "
        "FROM sync_state WHERE stream = ?",
        (stream,),
    ).fetchone()
    if row is None:
        return None
    return SyncPosition(row[0], row[1], bool(row[2]), row[3], row[4], row[5])


def cache_filling(conn: sqlite3.Connection, stream: str = DEFAULT_STREAM) -> bool:
    """Whether a first sync (or the snapshot after a reset) is still filling the cache.

    True before the first page, while snapshot pages are still coming, and until the indexes
    dropped for it are rebuilt. Such a cache lacks customers that have not arrived yet, and
    any lookup but by customer id scans whole tables (docs/sync.md, "While the cache fills").
    """
    position = sync_position(conn, stream)
    return position is None or position.snapshot_page_key is not None or in_bulk_mode(conn)


def begin_snapshot(conn: sqlite3.Connection) -> None:
    """Enter bulk mode for a full snapshot: drop FTS triggers and secondary indexes.

    This connection also checkpoints its WAL less often and keeps a larger page cache until
    :func:`finish_snapshot`; call it again when resuming a snapshot on a new connection (the
    drop is done once, the connection settings again).

    The dropped DDL is saved in ``app_meta``; if the app dies before :func:`finish_snapshot`,
    the next :func:`finish_snapshot` (the sync engine calls it at start when
    ``bulk.in_bulk_mode`` is true) restores everything.
    """
    with transaction(conn):
        drop_for_bulk(conn)
    conn.execute(f"PRAGMA wal_autocheckpoint = {_SNAPSHOT_CHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA cache_size = {_SNAPSHOT_CACHE_KIB}")


def finish_snapshot(conn: sqlite3.Connection) -> None:
    """Leave bulk mode: recreate indexes, rebuild the name index, recreate triggers, ANALYZE."""
    conn.execute(f"PRAGMA cache_size = {_REBUILD_CACHE_KIB}")  # index sorts + FTS merges in RAM
    try:
        try:
            with transaction(conn):
                restore_after_bulk(conn)
        finally:
            conn.execute(f"PRAGMA cache_size = {_DEFAULT_CACHE_KIB}")
        conn.execute("PRAGMA analysis_limit = 1000")  # sampled statistics: seconds -> milliseconds
        conn.execute("ANALYZE")
    finally:  # after ANALYZE: its commit would checkpoint the rebuilt indexes right away
        conn.execute(f"PRAGMA wal_autocheckpoint = {DEFAULT_CHECKPOINT_PAGES}")


def reset_cache(conn: sqlite3.Connection, stream: str = DEFAULT_STREAM) -> None:
    """Forget every cached row and the pull position (``reset_required``); keep the outbox.

    Local contacts (``origin='local'``) are kept too: they are this device's own records and
    are replaced by the server's copy when the re-snapshot brings it.
    """
    with transaction(conn):
        trigger = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'customer_fts_ad'"
        ).fetchone()
        conn.execute("DROP TRIGGER IF EXISTS customer_fts_ad")
        for table in CACHE_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("INSERT INTO customer_fts(customer_fts) VALUES ('delete-all')")
        if trigger is not None:
            conn.execute(trigger[0])
        conn.execute("DELETE FROM contact WHERE origin = 'server'")
        conn.execute("DELETE FROM sync_state WHERE stream = ?", (stream,))
