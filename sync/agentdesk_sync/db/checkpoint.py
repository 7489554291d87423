"""Background WAL checkpoints of the service's embedded SQLite store.

With ``synchronous=NORMAL`` a commit in WAL mode does not sync anything; the syncs happen when
the WAL is folded back into the database file (a checkpoint). SQLite runs that checkpoint
itself inside the commit that crosses ``wal_autocheckpoint`` pages, so now and then one write
group held the write lock while the database file was written and synced — tens to hundreds of
milliseconds on a busy disk, paid by every request of that group and of the groups queued
behind it. The service's connections turn that off (``wal_autocheckpoint=0``, see
:func:`agentdesk_sync.db.engine.make_engine`) and :class:`WalCheckpointer` does it on a thread
and connection of its own, every :data:`CHECKPOINT_S`: ``PASSIVE``, so it never blocks a writer
or a reader (it copies what no reader still needs; the next run copies the rest).

The engines ask :attr:`WalCheckpointer.active` when they hand out a connection: while no
checkpointer runs (not started, stopped, or without a connection of its own) their commits
checkpoint the WAL themselves again, so an app used without its lifespan, or a checkpointer
that cannot open the file, never lets the WAL grow without bound. A checkpointer whose
connection failed tries again at every interval.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

__all__ = ["CHECKPOINT_S", "WalCheckpointer"]

_LOG = logging.getLogger(__name__)
CHECKPOINT_S = 1.0


class WalCheckpointer:
    """A thread that checkpoints the WAL of the SQLite file at ``path`` every ``every_s``."""

    def __init__(self, path: Path, every_s: float = CHECKPOINT_S) -> None:
        self.path = path
        self.every_s = every_s
        self.done = 0  # checkpoints run
        self.connected = threading.Event()  # set while the thread holds its connection
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self._thread.start()

    @property
    def active(self) -> bool:
        """Whether the thread runs with a connection: the commits may leave the WAL to it."""
        return self.connected.is_set() and not self._stop.is_set()

    def stop(self, wait_s: float = 5.0) -> None:
        """Run a last checkpoint and end the thread (wait for it at most ``wait_s`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=wait_s)
            self._thread = None

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        warned = False
        try:
            while True:
                if conn is None:
                    conn = self._connect(warn=not warned)
                    warned = conn is None
                    if conn is not None:
                        self.connected.set()
                stopping = self._stop.wait(self.every_s)
                if conn is not None:
                    self._checkpoint(conn)
                if stopping:
                    return
        finally:
            self.connected.clear()
            if conn is not None:
                conn.close()

    def _connect(self, *, warn: bool) -> sqlite3.Connection | None:
        """The thread's own connection, or None (the next interval tries again)."""
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error:
            if conn is not None:
                conn.close()
            if warn:
                _LOG.warning(
                    "no checkpoint connection to %s; commits checkpoint themselves meanwhile",
                    self.path,
                    exc_info=True,
                )
            return None
        if warn is False:
            _LOG.info("checkpoint connection to %s open", self.path)
        return conn

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.done += 1
        except sqlite3.Error:  # the thread must go on: the next run retries
            _LOG.debug("background checkpoint failed; the next one retries", exc_info=True)
