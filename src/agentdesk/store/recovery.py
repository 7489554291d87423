"""A damaged cache file: detect it, move it aside (never delete), salvage the outbox.

The cache tables are disposable (a re-snapshot rebuilds them); the outbox is not. So when the
file is not a database or fails its integrity check, we rename it to
``<name>.corrupt-<timestamp>`` (with its ``-wal``/``-shm``), try to read the unsynced outbox
rows out of it, start a fresh file, and put the salvaged rows back (their ids are the
server's dedupe keys, so resending is safe). The :class:`CorruptionReport` says it in one
sentence.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.store.errors import map_sqlite_error

if TYPE_CHECKING:
    from agentdesk.store.db import CacheDB

__all__ = ["CorruptionReport", "check_file", "quarantine", "restore_outbox"]

_CORRUPT_CODES = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
_SALVAGE_SQL = (
    "SELECT id, client_seq, kind, payload_schema, payload, payload_hash, claim_id, fence, "
    "created_at_local, created_mono_ns, state, attempts, server_seq, result FROM outbox "
    "WHERE state IN ('pending', 'inflight', 'conflict', 'rejected')"
)


@dataclass(frozen=True, slots=True)
class CorruptionReport:
    """What happened to a damaged cache file.

    Attributes:
        moved_to: where the damaged file now is.
        pending_outbox: unsynced items found in it (``None``: could not be read).
        salvaged_rows: the outbox rows read back, restored into the fresh cache.
    """

    moved_to: Path
    pending_outbox: int | None
    salvaged_rows: tuple[tuple[Any, ...], ...] = field(default=(), repr=False)

    @property
    def sentence(self) -> str:
        """One sentence for the user."""
        head = f"The local cache was damaged and has been moved to {self.moved_to.name}"
        if self.pending_outbox is None:
            return (
                f"{head}; its unsynced items could not be read (the file is kept for support), "
                "and a fresh copy of the customer data is being downloaded."
            )
        return (
            f"{head}; {self.pending_outbox} unsynced item(s) were recovered and will be sent, "
            "and a fresh copy of the customer data is being downloaded."
        )


def _is_corruption(exc: sqlite3.Error) -> bool:
    name = str(getattr(exc, "sqlite_errorname", ""))
    text = str(exc).lower()
    return name in _CORRUPT_CODES or "not a database" in text or "malformed" in text


def check_file(path: Path, integrity: str = "auto") -> bool:
    """Whether the file at ``path`` is a healthy SQLite database (a missing file is healthy).

    Args:
        path: the cache file.
        integrity: ``"quick"``, ``"full"``, ``"none"`` (header and schema only) or
            ``"auto"`` (``quick`` when the last session did not close the file cleanly).

    Returns:
        ``False`` when the file is damaged.

    Raises:
        StoreError: the file cannot be checked for another reason (locked, unreadable).
    """
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        conn = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise map_sqlite_error(exc) from exc
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if integrity == "auto":
            integrity = "none" if _closed_cleanly(conn) else "quick"
        if integrity != "none":
            pragma = "quick_check" if integrity == "quick" else "integrity_check"
            rows = conn.execute(f"PRAGMA {pragma}(1)").fetchall()
            return rows == [("ok",)]
        return True
    except sqlite3.Error as exc:
        if _is_corruption(exc):
            return False
        raise map_sqlite_error(exc) from exc
    finally:
        conn.close()


def _closed_cleanly(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT value FROM app_meta WHERE key = 'clean_shutdown'").fetchone()
    except sqlite3.OperationalError:  # no app_meta yet: a file from before the first migration
        return True
    return row is None or row[0] == "1"


def quarantine(path: Path) -> CorruptionReport:
    """Move the damaged file (and its WAL/SHM) aside and read what outbox rows we can.

    Returns:
        The report; the fresh cache is created by the caller at ``path``.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        path.rename(moved)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(moved.with_name(moved.name + suffix))
    except OSError as exc:
        raise map_sqlite_error(exc) from exc
    rows = _salvage(moved)
    if rows is None:
        return CorruptionReport(moved, None)
    pending = sum(1 for r in rows if r[10] in ("pending", "inflight"))
    return CorruptionReport(moved, pending, tuple(rows))


def _salvage(moved: Path) -> list[tuple[Any, ...]] | None:
    """The unsettled outbox rows of the damaged file, or ``None`` when unreadable."""
    try:
        conn = sqlite3.connect(f"file:{moved}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return [tuple(r) for r in conn.execute(_SALVAGE_SQL)]
    except sqlite3.Error:
        return None
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.close()


def restore_outbox(db: CacheDB, report: CorruptionReport) -> int:
    """Put salvaged outbox rows into the fresh cache (sent items go back to ``pending``).

    Returns:
        How many rows were restored.
    """
    from agentdesk.store.db import transaction
    from agentdesk.store.meta import set_client_seq_floor

    rows = [_as_pending(r) for r in report.salvaged_rows]
    with db.writer() as conn, transaction(conn):
        conn.executemany(
            "INSERT OR IGNORE INTO outbox (id, client_seq, kind, payload_schema, payload, "
            "payload_hash, claim_id, fence, created_at_local, created_mono_ns, state, attempts, "
            "server_seq, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        set_client_seq_floor(conn, max((r[1] for r in rows), default=0))
    return len(rows)


def _as_pending(row: tuple[Any, ...]) -> tuple[Any, ...]:
    if row[10] == "inflight":
        return (*row[:10], "pending", row[11], None, None)
    return row
