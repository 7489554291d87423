"""Reads on the driver connection under a SQLAlchemy connection, in the same transaction."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import Connection

__all__ = ["rows_together"]


def rows_together(conn: Connection, *queries: tuple[str, tuple[Any, ...]]) -> list[list[Any]]:
    """The rows of each ``(sql, params)`` query, in order, in ``conn``'s transaction.

    On psycopg all queries go out in one pipeline (one round trip); elsewhere they run one
    after the other on the DB-API connection.
    """
    raw: Any = conn.connection.driver_connection
    if isinstance(raw, psycopg.Connection):
        cursors = [raw.cursor() for _ in queries]
        try:
            with raw.pipeline():
                for cur, (sql, params) in zip(cursors, queries, strict=True):
                    cur.execute(sql, params)
            return [list(cur.fetchall()) for cur in cursors]
        finally:
            for cur in cursors:
                cur.close()
    dbapi: Any = conn.connection.dbapi_connection
    out = []
    for sql, params in queries:
        cur = dbapi.cursor()
        try:
            cur.execute(sql, params)
            out.append(list(cur.fetchall()))
        finally:
            cur.close()
    return out
