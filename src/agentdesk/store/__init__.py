"""The client's local cache: SQLite file, schema, search, repositories and the outbox."""

from agentdesk.store.db import CacheDB, open_user_cache, transaction
from agentdesk.store.errors import (
    CacheIOError,
    CacheTooNewError,
    CorruptCacheError,
    DatabaseLockedError,
    DiskFullError,
    MigrationFailed,
    ReadOnlyCacheError,
    StoreBugError,
    StoreEnvironmentError,
    StoreError,
)
from agentdesk.store.recovery import CorruptionReport

__all__ = [
    "CacheDB",
    "CacheIOError",
    "CacheTooNewError",
    "CorruptCacheError",
    "CorruptionReport",
    "DatabaseLockedError",
    "DiskFullError",
    "MigrationFailed",
    "ReadOnlyCacheError",
    "StoreBugError",
    "StoreEnvironmentError",
    "StoreError",
    "open_user_cache",
    "transaction",
]
