"""The PostgreSQL copy of a seeded central SQLite store: ``COPY`` table by table, indexes after.

The benchmark's PostgreSQL store must hold the same data as its SQLite store. Seeding it again
with the generator would take the data set's "today" anew (a store seeded another day has other
dates), and at a million customers it spent most of its time on WAL and checkpoints. So the
template is loaded from the already seeded ``central.db`` instead:

* the schema comes from the product's migrations (``agentdesk_sync.db.engine.migrate``);
* in one transaction every table is truncated, the secondary ``ix_*`` indexes are dropped, each
  table is filled with ``COPY … FROM STDIN (FREEZE)`` from SQLite (SQLite itself writes each
  ``COPY`` text line, Python only forwards them), and the indexes are rebuilt;
* the building cluster runs with ``wal_level=minimal`` (a table truncated in the loading
  transaction is written without WAL) and ``fsync=off``; the caller flushes the files after the
  clean shutdown;
* :func:`fingerprint` (row counts of every table and a digest of its first
  :data:`SLICE` rows in key order, through the product's models) must be the same on both stores,
  or the template is not used.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = [
    "LOAD_SETTINGS",
    "SLICE",
    "conninfo_of",
    "copy_expression",
    "copy_lines",
    "differences",
    "fingerprint",
    "load_from_sqlite",
    "normalise",
    "sqlite_engine",
]

# the building cluster only (never a measured one): no WAL for the loaded tables, no fsyncs
LOAD_SETTINGS: dict[str, str] = {
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "1h",
    "maintenance_work_mem": "1GB",
    "autovacuum": "off",
}
SLICE = 500
_SKIPPED = frozenset({"alembic_version"})  # written by the migration itself
_FETCH = 5_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_expression(column: str) -> str:
    """A SQLite expression giving ``column`` as one field of PostgreSQL's ``COPY`` text format.

    NULL becomes ``\\N``; backslash, tab, newline and carriage return are escaped. Integers
    (booleans are 0/1, which PostgreSQL reads as false/true) and the ``YYYY-MM-DD HH:MM:SS.ffffff``
    UTC timestamps SQLAlchemy stores are taken as they are.
    """
    text = f"CAST({_quote(column)} AS TEXT)"
    for char, escaped in (("'\\'", "'\\\\'"), ("char(9)", "'\\t'"), ("char(10)", "'\\n'"),
                          ("char(13)", "'\\r'")):  # fmt: skip
        text = f"replace({text}, {char}, {escaped})"
    return f"coalesce({text}, '\\N')"


def _line(expressions: list[str]) -> str:
    """One SQLite ``printf`` joining the fields with tabs (one allocation per line)."""
    return f"printf('{chr(9).join(['%s'] * len(expressions))}', {', '.join(expressions)})"


def _clean(text: str, lines: int, tabs: int, nulls: int) -> bool:
    """True when no field of ``lines`` plain lines joined by newlines needed escaping.

    Each of the ``nulls`` NULL fields is ``\\N``, one backslash; any other backslash is data.
    """
    return ("\r" not in text and text.count("\\") == nulls and text.count("\t") == tabs * lines
            and text.count("\n") == lines - 1)  # fmt: skip


def copy_lines(con: sqlite3.Connection, table: str, columns: list[str]) -> Iterator[bytes]:
    """The rows of ``table`` as ``COPY`` text, a few thousand lines per chunk.

    SQLite writes each line with the fields as they are (only NULL turned into ``\\N``); the
    rare line with a backslash, tab, newline or carriage return in a field (more backslashes
    than NULLs, more tabs than field separators, ...) is written again with every field escaped
    (:func:`copy_expression`). Escaping every field of every row costs several times more.
    """
    tabs = len(columns) - 1
    plain = _line([f"coalesce(CAST({_quote(c)} AS TEXT), '\\N')" for c in columns])
    escaped = _line([copy_expression(c) for c in columns])
    name = _quote(table)
    nulls = " + ".join(f"({_quote(c)} IS NULL)" for c in columns)
    cur = con.execute(f"SELECT rowid, {nulls}, {plain} FROM {name}")
    while rows := cur.fetchmany(_FETCH):
        text = "\n".join(r[2] for r in rows)
        if not _clean(text, len(rows), tabs, sum(r[1] for r in rows)):
            lines = []
            for rowid, row_nulls, line in rows:
                if not _clean(line, 1, tabs, row_nulls):
                    sql = f"SELECT {escaped} FROM {name} WHERE rowid = ?"
                    line = con.execute(sql, (rowid,)).fetchone()[0]
                lines.append(line)
            text = "\n".join(lines)
        yield (text + "\n").encode()


def _sqlite_tables(con: sqlite3.Connection) -> dict[str, list[str]]:
    names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                       "name NOT LIKE 'sqlite_%' ORDER BY name")]  # fmt: skip
    return {n: [r[1] for r in con.execute(f"PRAGMA table_info({_quote(n)})")] for n in names}


def _pg_tables(cur: Any) -> dict[str, list[str]]:
    cur.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    tables: dict[str, list[str]] = {}
    for table, column in cur.fetchall():
        tables.setdefault(str(table), []).append(str(column))
    return tables


def conninfo_of(url: str) -> str:
    """The libpq connection URI of a SQLAlchemy ``postgresql+psycopg://`` URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load_from_sqlite(
    sqlite_path: Path, url: str, progress: Callable[[str], None] = lambda _text: None
) -> dict[str, int]:
    """Create the product's schema at ``url`` and copy every table of ``sqlite_path`` into it.

    Returns:
        Rows copied per table.

    Raises:
        RuntimeError: the two schemas do not have the same tables and columns.
    """
    import psycopg

    from agentdesk_sync.db.engine import migrate

    migrate(url)
    conninfo = conninfo_of(url)
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    counts: dict[str, int] = {}
    try:
        lite = _sqlite_tables(src)
        with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
            pg = _pg_tables(cur)
            names = sorted(set(lite) - _SKIPPED)
            for name in names:
                if name not in pg or set(pg[name]) != set(lite[name]):
                    msg = f"table {name}: SQLite columns {lite[name]} vs PostgreSQL {pg.get(name)}"
                    raise RuntimeError(msg)
            cur.execute("SET timezone = 'UTC'")
            cur.execute("SET session_replication_role = replica")  # the data is consistent
            # as the import pipeline stores customer rows; pglz took half of the COPY's time
            cur.execute("SET default_toast_compression = 'lz4'")
            cur.execute("TRUNCATE " + ", ".join(_quote(n) for n in names))
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                        "current_schema() AND indexname LIKE 'ix\\_%%'")  # fmt: skip
            indexes = [(str(n), str(d)) for n, d in cur.fetchall()]
            for index, _ddl in indexes:
                cur.execute(f"DROP INDEX {_quote(index)}")
            # biggest tables last: a schema mismatch or a bad row shows up early
            for name in sorted(names, key=lambda n: _row_count(src, n)):
                progress(f"COPY {name}")
                columns = pg[name]
                copied = 0
                sql = f"COPY {_quote(name)} ({', '.join(map(_quote, columns))}) FROM STDIN (FREEZE)"
                with cur.copy(sql.encode()) as copy:
                    for chunk in copy_lines(src, name, columns):
                        copy.write(chunk)
                        copied += chunk.count(b"\n")
                counts[name] = copied
            for index, ddl in indexes:
                progress(f"index {index}")
                cur.execute(ddl.encode())
            conn.commit()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            # VACUUM too: a never-vacuumed store has every table over autovacuum's insert
            # threshold, and autovacuum would visit them all in each run's measured rows
            progress("VACUUM (FREEZE, ANALYZE)")
            conn.execute("VACUUM (FREEZE, ANALYZE)")
            conn.execute("CHECKPOINT")
    finally:
        src.close()
    return counts


def _row_count(con: sqlite3.Connection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0])


def normalise(value: Any) -> Any:
    """A value as both stores give it back: timestamps as UTC ISO text, decimals as text."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def fingerprint(engine: Any) -> dict[str, tuple[int, str]]:
    """Per table of the product's models: (row count, SHA-256 of its first rows in key order).

    The rows are read through the models, so SQLite's JSON text and PostgreSQL's JSONB (keys
    in another order), naive and aware timestamps, 0/1 and booleans compare equal.
    """
    from sqlalchemy import func, select

    from agentdesk_sync.db.models import Base

    out: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            count = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            keys = list(table.primary_key.columns)
            rows = conn.execute(select(table).order_by(*keys).limit(SLICE)).all()
            data = [[normalise(v) for v in row] for row in rows]
            text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
            out[table.name] = (count, hashlib.sha256(text.encode()).hexdigest())
    return out


def differences(a: dict[str, tuple[int, str]], b: dict[str, tuple[int, str]]) -> list[str]:
    """The tables whose row count or slice digest differ (empty: the stores match)."""
    diffs = []
    for name in sorted(set(a) | set(b)):
        left, right = a.get(name), b.get(name)
        if left is None or right is None:
            diffs.append(f"{name}: only in one store")
        elif left[0] != right[0]:
            diffs.append(f"{name}: {left[0]:,} vs {right[0]:,} rows")
        elif left[1] != right[1]:
            diffs.append(f"{name}: same {left[0]:,} rows, first {SLICE} differ")
    return diffs


def sqlite_engine(path: Path) -> Any:
    """A read-only SQLAlchemy engine on a SQLite file (the cached store is never written)."""
    from sqlalchemy import create_engine

    return create_engine("sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro",
                                                                      uri=True))  # fmt: skip
