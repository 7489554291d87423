"""``app_meta`` key/values: the device id and the per-device ``client_seq`` counter.

``client_seq`` comes from a counter row rather than ``MAX(client_seq)``, so it never goes back
even after acked rows are pruned (the server orders a device's items by it).
"""

from __future__ import annotations

import sqlite3

from agentdesk.store.codec import new_id

__all__ = ["ensure_device_id", "get_meta", "next_client_seq", "set_client_seq_floor", "set_meta"]


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """The value stored under ``key``, or ``None``."""
    row = conn.execute("SELECT value FROM app_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Store ``value`` under ``key`` (inside the caller's transaction, if any)."""
    conn.execute(
        "INSERT INTO app_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def ensure_device_id(conn: sqlite3.Connection, device_id: str | None = None) -> str:
    """This cache's device id: the stored one, else ``device_id``, else a new UUIDv7."""
    stored = get_meta(conn, "device_id")
    if stored:
        return stored
    value = device_id or new_id()
    set_meta(conn, "device_id", value)
    return value


def next_client_seq(conn: sqlite3.Connection) -> int:
    """Take the next ``client_seq`` (call inside the write transaction)."""
    row = conn.execute(
        "INSERT INTO app_meta (key, value) VALUES ('client_seq', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value"
    ).fetchone()
    return int(row[0])


def set_client_seq_floor(conn: sqlite3.Connection, floor: int) -> None:
    """Make sure the counter is at least ``floor`` (after restoring salvaged rows)."""
    current = int(get_meta(conn, "client_seq") or 0)
    if floor > current:
        set_meta(conn, "client_seq", str(floor))
