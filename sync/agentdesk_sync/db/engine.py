"""Engine factories of the central store, for PostgreSQL and the embedded SQLite default.

* :func:`resolve_db_url` picks the URL: the explicit ``--db``, else ``AGENTDESK_SYNC_DB``, else an
  SQLite file ``central.db`` in the agentdesk data folder (``AGENTDESK_DATA_DIR`` overrides it).
* :func:`make_engine` / :func:`make_async_engine` build engines with the same connection
  settings: SQLite gets WAL, ``synchronous=NORMAL``, a busy timeout and foreign keys; PostgreSQL
  goes through psycopg 3, and a pooled connection is pinged on checkout only when it sat idle
  for :data:`PING_IDLE_S` or more (a busy pool does not pay a round trip per checkout).
* :func:`migrate` (implemented in :mod:`agentdesk_sync.db.migrate`) creates or upgrades
  the schema.

A URL that cannot work (unknown scheme, unreachable host, wrong password, unwritable folder)
raises a :class:`~agentdesk_sync.db.errors.DatabaseUnavailable` with one clear sentence.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from agentdesk.paths import Paths
from agentdesk_sync.db.errors import DatabaseUnavailable, InvalidDatabaseUrl, translate_db_error

__all__ = [
    "DB_ENV",
    "DbKind",
    "check_connection",
    "db_kind",
    "default_db_url",
    "make_async_engine",
    "make_engine",
    "migrate",
    "resolve_db_url",
    "sqlite_path",
]

DB_ENV = "AGENTDESK_SYNC_DB"
DbKind = Literal["sqlite", "postgresql"]
_BUSY_TIMEOUT_MS = 10_000
_PG_ALIASES = ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2")
PING_IDLE_S = 1.0
_IDLE_SINCE = "agentdesk_idle_since"
_AUTOCHECKPOINT = "agentdesk_wal_autocheckpoint"  # record.info: the pages this connection has
_AUTOCHECKPOINT_PAGES = 1000  # SQLite's own default


def default_db_url() -> str:
    """The embedded default: ``sqlite:///<data folder>/central.db`` (``AGENTDESK_DATA_DIR``)."""
    return f"sqlite:///{Paths.from_env().central_db()}"


def resolve_db_url(url: str | None) -> str:
    """The central store URL to use, normalised.

    Args:
        url: The explicit ``--db`` value, or None.

    Returns:
        ``url`` if given, else ``$AGENTDESK_SYNC_DB``, else :func:`default_db_url`; PostgreSQL
        URLs are rewritten to the ``postgresql+psycopg`` driver.

    Raises:
        InvalidDatabaseUrl: The URL is neither SQLite nor PostgreSQL.
    """
    chosen = url or os.environ.get(DB_ENV) or default_db_url()
    return _normalise(chosen).render_as_string(hide_password=False)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise InvalidDatabaseUrl(
            f"The database URL {url!r} is not a URL; use sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB."
        ) from None


def _normalise(url: str) -> URL:
    parsed = _parse(url)
    if parsed.drivername in _PG_ALIASES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"):
        return parsed.set(drivername="sqlite")
    raise InvalidDatabaseUrl(
        f"The database URL scheme {parsed.drivername!r} is not supported; use sqlite:///PATH or "
        "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB."
    )


def db_kind(url: str) -> DbKind:
    """``"sqlite"`` or ``"postgresql"`` for a central store URL."""
    return "sqlite" if _normalise(url).drivername == "sqlite" else "postgresql"


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = _normalise(url)
    if parsed.drivername != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _ensure_sqlite_folder(url: str) -> None:
    path = sqlite_path(url)
    if path is None:
        return
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"Cannot create the database folder {folder}: {exc.strerror or exc}."
        ) from None
    if not os.access(folder, os.W_OK):
        raise DatabaseUnavailable(f"The database folder {folder} is not writable.")
    if path.exists() and not os.access(path, os.W_OK):
        raise DatabaseUnavailable(f"The database file {path} is not writable.")


def _sqlite_connect_hook(busy_timeout_ms: int, checkpoints: bool = True) -> Any:
    pragmas = [
        "journal_mode=WAL",
        "synchronous=NORMAL",
        f"busy_timeout={busy_timeout_ms}",
        "foreign_keys=ON",
    ]
    if not checkpoints:  # a WalCheckpointer (db/checkpoint.py) does it off the commit path
        pragmas.append("wal_autocheckpoint=0")

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        """Per-connection settings; the driver's autocommit is off so we emit BEGIN ourselves."""
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    return on_connect


def _on_sqlite_begin(conn: Any) -> None:
    """Start SQLite transactions explicitly; ``sqlite_begin="IMMEDIATE"`` takes the write lock."""
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _autocheckpoint_switch(checkpoints: Callable[[], bool]) -> Any:
    """A checkout hook: the connection's commits checkpoint the WAL when ``checkpoints()``."""

    def on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        pages = _AUTOCHECKPOINT_PAGES if checkpoints() else 0
        if record.info.get(_AUTOCHECKPOINT) != pages:  # cleared when the connection is renewed
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA wal_autocheckpoint={pages}")
            cur.close()
            record.info[_AUTOCHECKPOINT] = pages

    return on_checkout


def _install_sqlite_events(
    engine: Engine, busy_timeout_ms: int, checkpoints: bool | Callable[[], bool]
) -> None:
    fixed = checkpoints if isinstance(checkpoints, bool) else True
    event.listen(engine, "connect", _sqlite_connect_hook(busy_timeout_ms, fixed))
    event.listen(engine, "begin", _on_sqlite_begin)
    if not isinstance(checkpoints, bool):
        event.listen(engine, "checkout", _autocheckpoint_switch(checkpoints))


def _install_idle_ping(engine: Engine) -> None:
    """Ping a PostgreSQL connection on checkout only when it was idle for ``PING_IDLE_S``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: one more round trip for each
    write group and each read of a busy service. A server that went away (a restart, a
    dropped link) is found the same way after a quiet spell; within a busy second the
    statement that meets the dead connection fails instead, which the service answers with
    ``retry`` or 503 like any database fault (docs/operations.md), and the pool is renewed; a
    write group that meets it at its first statement runs once more instead (``writer.py``).
    """
    dialect = engine.dialect

    def on_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return  # a new connection, or one back from a request a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_conn, None):
                raise InvalidatePoolError() from exc  # the pool reconnects, as pre-ping does
            raise

    event.listen(engine, "checkin", on_checkin)
    event.listen(engine, "checkout", on_checkout)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    return kwargs


def make_engine(
    url: str,
    *,
    busy_timeout_ms: int = _BUSY_TIMEOUT_MS,
    sqlite_checkpoints: bool | Callable[[], bool] = True,
    **kwargs: Any,
) -> Engine:
    """A synchronous SQLAlchemy engine for ``url`` (see module doc for the settings).

    Args:
        url: A central store URL (``sqlite:///…`` or ``postgresql+psycopg://…``).
        busy_timeout_ms: How long an SQLite writer waits for the write lock.
        sqlite_checkpoints: Whether SQLite commits checkpoint the WAL themselves (False: the
            caller runs a :class:`~agentdesk_sync.db.checkpoint.WalCheckpointer`), or a
            callable asked at each checkout (``lambda: not checkpointer.active``): commits
            leave the WAL alone only while it answers False.
        **kwargs: Passed on to :func:`sqlalchemy.create_engine`.

    Returns:
        The engine (no connection is made yet; see :func:`check_connection`).

    Raises:
        InvalidDatabaseUrl: Unsupported scheme.
        DatabaseUnavailable: The SQLite folder cannot be created or written.
    """
    parsed = _normalise(url)
    kwargs = _json_kwargs(kwargs)
    if parsed.drivername == "sqlite":
        _ensure_sqlite_folder(url)
        connect_args = {"timeout": busy_timeout_ms / 1000, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        _install_sqlite_events(engine, busy_timeout_ms, sqlite_checkpoints)
        return engine
    connect_args = {"connect_timeout": 10, **kwargs.pop("connect_args", {})}
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _install_idle_ping(engine)
    return engine


def make_async_engine(
    url: str,
    *,
    busy_timeout_ms: int = _BUSY_TIMEOUT_MS,
    sqlite_checkpoints: bool | Callable[[], bool] = True,
    **kwargs: Any,
) -> AsyncEngine:
    """An asyncio engine for ``url``: aiosqlite for SQLite, psycopg 3 async for PostgreSQL.

    Args:
        url: A central store URL.
        busy_timeout_ms: How long an SQLite writer waits for the write lock.
        sqlite_checkpoints: As for :func:`make_engine`.
        **kwargs: Passed on to :func:`sqlalchemy.ext.asyncio.create_async_engine`.

    Returns:
        The async engine, with the same connection settings as :func:`make_engine`.
    """
    parsed = _normalise(url)
    kwargs = _json_kwargs(kwargs)
    if parsed.drivername == "sqlite":
        _ensure_sqlite_folder(url)
        engine = create_async_engine(
            parsed.set(drivername="sqlite+aiosqlite"),
            connect_args={"timeout": busy_timeout_ms / 1000, **kwargs.pop("connect_args", {})},
            **kwargs,
        )
        _install_sqlite_events(engine.sync_engine, busy_timeout_ms, sqlite_checkpoints)
        return engine
    connect_args = {"connect_timeout": 10, **kwargs.pop("connect_args", {})}
    async_engine = create_async_engine(parsed, connect_args=connect_args, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _install_idle_ping(async_engine.sync_engine)
    return async_engine


def check_connection(engine: Engine) -> None:
    """Connect once, turning any connection failure into one clear sentence.

    Raises:
        DatabaseUnavailable: The database cannot be reached or opened.
    """
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except (DBAPIError, OSError) as exc:
        raise translate_db_error(exc, engine.url) from None


def migrate(url: str) -> None:
    """Create or upgrade the central schema at ``url`` (Alembic, programmatic).

    Raises:
        DatabaseUnavailable: The database cannot be reached.
    """
    from agentdesk_sync.db.migrate import upgrade

    upgrade(url)
