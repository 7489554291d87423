"""The central store: schema, engine factories, Alembic migrations and the change feed."""

from agentdesk_sync.db import models
from agentdesk_sync.db.changes import ChangeRow, append_changes
from agentdesk_sync.db.engine import (
    db_kind,
    make_async_engine,
    make_engine,
    migrate,
    resolve_db_url,
)
from agentdesk_sync.db.errors import DatabaseUnavailable, InvalidDatabaseUrl, StoreError

__all__ = [
    "ChangeRow",
    "DatabaseUnavailable",
    "InvalidDatabaseUrl",
    "StoreError",
    "append_changes",
    "db_kind",
    "make_async_engine",
    "make_engine",
    "migrate",
    "models",
    "resolve_db_url",
]
