"""Bulk mode for snapshots: drop the FTS triggers and secondary indexes, rebuild them once.

docs/sync.md: building the name index and secondary indexes once after 1 M rows is much faster
than maintaining them row by row. The DDL that was dropped is saved in ``app_meta`` (key
``bulk_ddl``) in the same transaction, so a crash in the middle of a snapshot is repaired by
calling :func:`restore_after_bulk` again at the next start.
"""

from __future__ import annotations

import sqlite3

from agentdesk.store.codec import dumps, loads
from agentdesk.store.meta import get_meta, set_meta

__all__ = ["BULK_TABLES", "drop_for_bulk", "in_bulk_mode", "restore_after_bulk"]

BULK_TABLES = (
    "customer", "holding", "customer_usage", "target_member", "marketing_order", "contact",
)  # fmt: skip
_KEY = "bulk_ddl"


def in_bulk_mode(conn: sqlite3.Connection) -> bool:
    """Whether a snapshot left the indexes dropped (finish it with :func:`restore_after_bulk`)."""
    return bool(get_meta(conn, _KEY))


def drop_for_bulk(conn: sqlite3.Connection) -> None:
    """Drop the FTS triggers and non-unique indexes of the big tables (caller's transaction)."""
    if in_bulk_mode(conn):
        return
    marks = ", ".join("?" for _ in BULK_TABLES)
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
        f"((type = 'index' AND tbl_name IN ({marks})) OR "
        "(type = 'trigger' AND name LIKE 'customer_fts_%'))",
        BULK_TABLES,
    ).fetchall()
    set_meta(conn, _KEY, dumps([[t, n, sql] for t, n, sql in rows]))
    for kind, name, _sql in rows:
        conn.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')


def restore_after_bulk(conn: sqlite3.Connection) -> None:
    """Recreate what :func:`drop_for_bulk` dropped and rebuild the name index."""
    saved = loads(get_meta(conn, _KEY) or "[]")
    if not saved:
        return
    for kind, _name, sql in saved:
        if kind == "index":
            conn.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    conn.execute("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')")
    for kind, _name, sql in saved:
        if kind == "trigger":
            conn.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
    conn.execute("DELETE FROM app_meta WHERE key = ?", (_KEY,))
