"""Bulk-load settings: secondary indexes dropped during the seed and rebuilt after, fast SQLite.

Building an index once over sorted data is much cheaper than updating it row by row, so the
seed drops the ``ix_*`` indexes of the tables it fills and recreates them from their stored
definitions at the end. On SQLite the loading connection also skips fsyncs and foreign-key
checks (the seed only ever fills an empty store and its rows are consistent by construction),
takes a 1 GiB page cache and lets the index builds sort on two threads; the usual settings come
back when the load ends. The journal (WAL) stays: without it a failed statement cannot be rolled
back and leaves a malformed file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

__all__ = ["bulk_mode"]

_SEEDED = ("customer", "holding", "usage_month", "contact", "target_member", "marketing_order",
           "campaign", "offer")  # fmt: skip


def _index_definitions(driver: Any, dialect: str) -> list[tuple[str, str]]:
    """``(name, CREATE INDEX …)`` of the seeded tables' secondary indexes."""
    marks = ",".join("?" * len(_SEEDED)) if dialect == "sqlite" else ",".join(["%s"] * len(_SEEDED))
    if dialect == "sqlite":
        sql = (f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
               f"AND name LIKE 'ix_%' AND tbl_name IN ({marks}) ORDER BY name")  # fmt: skip
    else:
        sql = (f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
               f" AND indexname LIKE 'ix_%%' AND tablename IN ({marks})"
               " ORDER BY indexname")  # fmt: skip
    with _transaction(driver, dialect):
        cur = driver.cursor()
        try:
            cur.execute(sql, _SEEDED)
            return [(str(name), str(ddl)) for name, ddl in cur.fetchall()]
        finally:
            cur.close()


def _transaction(driver: Any, dialect: str) -> Any:
    """psycopg: one committed transaction; sqlite3 (autocommit): statements commit themselves."""
    return nullcontext() if dialect == "sqlite" else driver.transaction()


def _run(driver: Any, statements: list[str], dialect: str) -> None:
    with _transaction(driver, dialect):
        cur = driver.cursor()
        try:
            for statement in statements:
                cur.execute(statement)
        finally:
            cur.close()


@contextmanager
def bulk_mode(driver: Any, dialect: str) -> Iterator[None]:
    """Drop the secondary indexes (and on SQLite relax durability) for the ``with`` block.

    Args:
        driver: The DB-API connection of the driver (sqlite3 or psycopg), autocommit.
        dialect: ``"sqlite"`` or ``"postgresql"``.

    Yields:
        Nothing; on exit the indexes are rebuilt and the settings restored.
    """
    indexes = _index_definitions(driver, dialect)
    if dialect == "sqlite":
        _run(driver, ["PRAGMA synchronous=OFF", "PRAGMA foreign_keys=OFF",
                      "PRAGMA cache_size=-1048576", "PRAGMA threads=2"], dialect)  # fmt: skip
    _run(driver, [f"DROP INDEX IF EXISTS {name}" for name, _ in indexes], dialect)
    try:
        yield
    finally:
        _run(driver, [ddl for _, ddl in indexes], dialect)
        if dialect == "sqlite":
            _run(driver, ["PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
                          "PRAGMA cache_size=-2000", "PRAGMA threads=0"], dialect)  # fmt: skip
