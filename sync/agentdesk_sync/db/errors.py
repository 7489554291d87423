"""Errors of the central store that a user can fix: a wrong URL, a database that cannot be reached.

Each carries one clear sentence (``str(exc)``); the CLI prints it and exits 1, never a traceback.

Tree::

    StoreError
    ├── InvalidDatabaseUrl      the --db URL is not SQLite or PostgreSQL
    ├── DatabaseUnavailable     cannot connect, wrong password, unwritable folder, …
    └── DataInputError          an input file (import, seed args) cannot be used at all
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

__all__ = [
    "DataInputError",
    "DatabaseUnavailable",
    "InvalidDatabaseUrl",
    "StoreError",
    "translate_db_error",
]


class StoreError(Exception):
    """An environmental error of the central store, with a one-sentence message."""

    code = "store_error"


class InvalidDatabaseUrl(StoreError):
    """The database URL has an unsupported scheme or cannot be parsed."""

    code = "invalid_database_url"


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or opened."""

    code = "database_unavailable"


class DataInputError(StoreError):
    """An input (file, mapping, arguments) cannot be used at all."""

    code = "invalid_input"


def _where(url: URL | None) -> str:
    if url is None:
        return "the database"
    if url.drivername.startswith("sqlite"):
        return f"the SQLite database {url.database}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"PostgreSQL at {host}{port} (database {url.database!r}, user {url.username!r})"


def _pg_reason(text: str) -> str:
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return "the password was rejected"
    if "does not exist" in lowered and "database" in lowered:
        return "the database does not exist"
    if "role" in lowered and "does not exist" in lowered:
        return "the user does not exist"
    if "connection refused" in lowered or "could not connect" in lowered:
        return "nothing is listening there (is the server running?)"
    if "timeout" in lowered or "timed out" in lowered:
        return "the connection timed out"
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return "the host name is unknown"
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first.rstrip(".")


def translate_db_error(exc: BaseException, url: URL | None = None) -> StoreError:
    """Turn a driver or SQLAlchemy connection failure into a one-sentence :class:`StoreError`.

    Args:
        exc: The exception raised while connecting or running the first statement.
        url: The engine URL (its password is never shown), if known.

    Returns:
        A :class:`DatabaseUnavailable` describing what went wrong, or ``exc`` itself when it is
        already a :class:`StoreError`.
    """
    if isinstance(exc, StoreError):
        return exc
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    where = _where(url)
    if isinstance(orig, sqlite3.Error):
        return DatabaseUnavailable(f"Cannot open {where}: {orig}.")
    if isinstance(orig, psycopg.Error) or isinstance(exc, OperationalError):
        return DatabaseUnavailable(f"Cannot connect to {where}: {_pg_reason(str(orig))}.")
    if isinstance(orig, OSError):
        return DatabaseUnavailable(f"Cannot open {where}: {orig.strerror or orig}.")
    return DatabaseUnavailable(f"Cannot use {where}: {orig}.")
