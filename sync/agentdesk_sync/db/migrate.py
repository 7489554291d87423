"""Run the central store's Alembic migrations programmatically (no ``alembic.ini``).

The scripts live in ``agentdesk_sync/db/migrations``. On PostgreSQL an advisory lock makes two
processes that migrate at once take turns.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from agentdesk_sync.db.engine import make_engine
from agentdesk_sync.db.errors import translate_db_error

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

_LOCK_ID = 0x61676E7464736B  # "agntdsk"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the in-package scripts, optionally bound to a connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision id of the scripts."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    """The revision the store at ``url`` is at (None when never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except (DBAPIError, OSError) as exc:
        raise translate_db_error(exc, engine.url) from None
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema at ``url`` to ``revision`` in one transaction.

    Raises:
        DatabaseUnavailable: The database cannot be reached or written.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")
            command.upgrade(alembic_config(conn), revision)
    except (DBAPIError, OSError) as exc:
        raise translate_db_error(exc, engine.url) from None
    finally:
        engine.dispose()
