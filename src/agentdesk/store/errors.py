"""Errors of the local cache, each with one sentence a user can act on.

The tree splits environmental problems (the disk, the file, another process: the user or the
machine can fix them, the app shows the sentence and carries on) from bugs (our code is wrong:
report and stop), after qutebrowser's ``KnownError``/``BugError``::

    StoreError                      base; ``sentence`` is the one line the UI shows
    ├── StoreEnvironmentError       not our fault; retry after the condition clears
    │   ├── DiskFullError           SQLITE_FULL / ENOSPC: nothing was saved
    │   ├── DatabaseLockedError     SQLITE_BUSY / SQLITE_LOCKED after busy_timeout
    │   ├── ReadOnlyCacheError      SQLITE_READONLY / EACCES / EROFS
    │   ├── CacheIOError            SQLITE_IOERR and other OS failures
    │   ├── CorruptCacheError       the file is not a database or fails its integrity check
    │   ├── MigrationFailed         the schema upgrade failed and the backup was restored
    │   └── CacheTooNewError        a newer agentdesk wrote the file: update the app
    └── StoreBugError               constraint violations, SQL errors: a defect in agentdesk

:func:`map_sqlite_error` turns a ``sqlite3.Error`` into one of these.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = [
    "CacheIOError",
    "CacheTooNewError",
    "CorruptCacheError",
    "DatabaseLockedError",
    "DiskFullError",
    "MigrationFailed",
    "ReadOnlyCacheError",
    "StoreBugError",
    "StoreEnvironmentError",
    "StoreError",
    "map_sqlite_error",
]


class StoreError(Exception):
    """Base of every local-cache error; ``sentence`` is what the user reads."""

    default_sentence = "The local cache reported an error."

    def __init__(self, sentence: str | None = None) -> None:
        self.sentence = sentence or self.default_sentence
        super().__init__(self.sentence)


class StoreEnvironmentError(StoreError):
    """An environmental problem: the disk, file permissions, another process."""


class DiskFullError(StoreEnvironmentError):
    """The disk (or the cache's size limit) is full."""

    default_sentence = "The disk is full, so this was NOT saved; free some space and try again."


class DatabaseLockedError(StoreEnvironmentError):
    """Another connection held the write lock longer than the busy timeout."""

    default_sentence = "The local cache is busy (locked by another process); try again in a moment."


class ReadOnlyCacheError(StoreEnvironmentError):
    """The cache file or its folder cannot be written."""

    default_sentence = (
        "The local cache file is read-only, so nothing can be saved; check its permissions."
    )


class CacheIOError(StoreEnvironmentError):
    """The operating system failed to read or write the file."""

    default_sentence = (
        "The local cache could not be read or written (disk error); nothing was saved."
    )


class CorruptCacheError(StoreEnvironmentError):
    """The cache file is damaged.

    Attributes:
        moved_to: where the damaged file was moved (never deleted), if it was.
        pending_outbox: unsynced items counted in the damaged file, ``None`` if unreadable.
    """

    default_sentence = "The local cache file is damaged."

    def __init__(
        self,
        sentence: str | None = None,
        *,
        moved_to: Path | None = None,
        pending_outbox: int | None = None,
    ) -> None:
        super().__init__(sentence)
        self.moved_to = moved_to
        self.pending_outbox = pending_outbox


class MigrationFailed(StoreEnvironmentError):
    """The schema upgrade failed; the file was restored from ``backup`` and sync must not start."""

    def __init__(self, backup: Path | None, cause: str = "") -> None:
        where = str(backup) if backup else "the unchanged cache file"
        super().__init__(
            "The local cache could not be upgraded; your unsynced items are safe in "
            f"{where}; sync is paused."
        )
        self.backup = backup
        self.cause = cause


class CacheTooNewError(StoreEnvironmentError):
    """The cache file's schema is newer than this agentdesk knows (an older app was started)."""

    default_sentence = (
        "The local cache was written by a newer version of agentdesk; update agentdesk to "
        "open it (nothing was changed and your unsynced items are safe)."
    )


class StoreBugError(StoreError):
    """A defect in agentdesk (bad SQL, a broken constraint): report it."""

    default_sentence = "agentdesk hit an internal error in its local cache; please report it."


_FULL = {"SQLITE_FULL"}
_LOCKED = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_TIMEOUT"}
_CORRUPT = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


def map_sqlite_error(exc: BaseException) -> StoreError:
    """The typed error for a ``sqlite3`` (or OS) exception.

    Args:
        exc: the exception raised by ``sqlite3`` or by file operations.

    Returns:
        A :class:`StoreError` subclass instance with its user sentence.
    """
    if isinstance(exc, StoreError):
        return exc
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc).lower()
    if name in _FULL or "database or disk is full" in text:
        return DiskFullError()
    if name in _LOCKED or name.startswith("SQLITE_BUSY") or "database is locked" in text:
        return DatabaseLockedError()
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return ReadOnlyCacheError()
    if name in _CORRUPT or "not a database" in text or "malformed" in text:
        return CorruptCacheError()
    if name.startswith("SQLITE_IOERR") or name.startswith("SQLITE_CANTOPEN"):
        return CacheIOError()
    if isinstance(exc, OSError):
        return _map_os_error(exc)
    if isinstance(exc, sqlite3.Error):
        return StoreBugError(f"agentdesk hit an internal error in its local cache ({exc}).")
    return StoreBugError()


def _map_os_error(exc: OSError) -> StoreError:
    """Map an ``OSError`` by errno."""
    import errno

    if exc.errno == errno.ENOSPC:
        return DiskFullError()
    if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
        return ReadOnlyCacheError()
    return CacheIOError()
