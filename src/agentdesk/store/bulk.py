"""Bulk mode for snapshots: drop the FTS triggers and secondary indexes, rebuild them once.

docs/sync.md: building the name index and secondary indexes once after 1 M rows is much faster
than maintaining them row by row. The DDL that was dropped is saved in ``app_meta`` (key
``bulk_ddl``) in the same transaction, so a crash in the middle of a snapshot is repaired by
calling :func:`restore_after_bulk` again at the next start.

The wire-id unique index of a big table (``uq_<table>_<column>``, :data:`UNIQUE_KEYS`) is
dropped too, but only when the table is empty as the snapshot starts: its rows then go in with
a plain ``INSERT`` (:func:`plain_tables`; ``agentdesk.store.apply``) and the index is built
once, sorted, at the end (docs/sync.md, "Unique keys built once"). Before it is built, the
duplicates a replayed or updated row left are removed as the upsert would have resolved them
(:func:`restore_unique`). A table with rows (local contacts recorded before the first sync, a
resumed snapshot) keeps its index and the upsert.
"""

from __future__ import annotations

import sqlite3

from agentdesk.store.codec import dumps, loads
from agentdesk.store.meta import get_meta, set_meta

__all__ = [
    "BULK_TABLES",
    "UNIQUE_KEYS",
    "drop_for_bulk",
    "in_bulk_mode",
    "plain_tables",
    "restore_after_bulk",
    "restore_unique",
]

BULK_TABLES = ("customer", "holding", "usage_month", "target_member", "marketing_order", "contact")
UNIQUE_KEYS = {
    "customer": "customer_id",
    "holding": "holding_id",
    "usage_month": "usage_id",
    "target_member": "target_id",
    "marketing_order": "order_id",
    "contact": "contact_id",
}
"""Each big table's wire-id column: its unique index is ``uq_<table>_<column>`` (migration 0005)."""
_UNIQUE_NAMES = {f"uq_{table}_{column}": table for table, column in UNIQUE_KEYS.items()}
_KEY = "bulk_ddl"


def in_bulk_mode(conn: sqlite3.Connection) -> bool:
    """Whether a snapshot left the indexes dropped (finish it with :func:`restore_after_bulk`)."""
    return bool(get_meta(conn, _KEY))


def drop_for_bulk(conn: sqlite3.Connection) -> None:
    """Drop the FTS triggers and secondary indexes of the big tables (caller's transaction),
    and the unique id index of each of them that is empty."""
    if in_bulk_mode(conn):
        return
    marks = ", ".join("?" for _ in BULK_TABLES)
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
        f"((type = 'index' AND tbl_name IN ({marks})) OR "
        "(type = 'trigger' AND name LIKE 'customer_fts_%'))",
        BULK_TABLES,
    ).fetchall()
    rows = [r for r in rows if r[1] not in _UNIQUE_NAMES or _empty(conn, _UNIQUE_NAMES[r[1]])]
    set_meta(conn, _KEY, dumps([[t, n, sql] for t, n, sql in rows]))
    for kind, name, _sql in rows:
        conn.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')


def restore_after_bulk(conn: sqlite3.Connection) -> None:
    """Recreate what :func:`drop_for_bulk` dropped and rebuild the name index."""
    saved = loads(get_meta(conn, _KEY) or "[]")
    if not saved:
        return
    for kind, name, _sql in saved:  # first: removing duplicates deletes rows
        if kind == "index" and name in _UNIQUE_NAMES:
            restore_unique(conn, _UNIQUE_NAMES[name])
    for kind, name, sql in saved:
        if kind == "index" and name not in _UNIQUE_NAMES:
            conn.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    conn.execute("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')")
    for kind, _name, sql in saved:
        if kind == "trigger":
            conn.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
    conn.execute("DELETE FROM app_meta WHERE key = ?", (_KEY,))


def _empty(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None


def plain_tables(conn: sqlite3.Connection) -> frozenset[str]:
    """The big tables whose unique id index a snapshot dropped: rows go in with a plain
    ``INSERT`` until :func:`restore_unique` builds it again."""
    marks = ", ".join("?" for _ in _UNIQUE_NAMES)
    present = conn.execute(
        f"SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({marks})",
        tuple(_UNIQUE_NAMES),
    ).fetchall()
    have = {_UNIQUE_NAMES[name] for (name,) in present}
    return frozenset(t for t in BULK_TABLES if t not in have)


def restore_unique(conn: sqlite3.Connection, table: str) -> None:
    """Build ``table``'s unique id index again (caller's transaction); no-op if it exists.

    Rows inserted while it was dropped may repeat an id (a page applied again after a crash, a
    row changed during the snapshot, a local contact the snapshot also brought): of each id the
    row with the largest ``row_seq`` stays, the later one on equal ``row_seq`` -- what the
    upsert (``excluded.row_seq >= row_seq``) would have left. The duplicates are looked for
    only when the index cannot be built (a first sync normally has none).
    """
    column = UNIQUE_KEYS[table]
    create = f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{table}_{column} ON {table} ({column})"
    try:
        conn.execute(create)
    except sqlite3.IntegrityError:
        conn.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
            f"(PARTITION BY {column} ORDER BY row_seq DESC, id DESC) AS n FROM {table}) "
            "WHERE n > 1)"
        )
        conn.execute(create)
