"""Observable sync status: what the status bar shows, with plain-callable subscribers.

The UI wraps :meth:`SyncStatus.subscribe` callbacks into Qt signals; callbacks run on the thread
that changed the status (the sync worker), so they must only hand the snapshot over.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["Connectivity", "StatusSnapshot", "SyncStatus"]

Connectivity = Literal["online", "offline", "syncing"]


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """An immutable view of the sync status.

    Attributes:
        state: ``online`` (last contact worked), ``offline`` or ``syncing`` (a cycle is running).
        waiting: outbox items not yet acknowledged by the service.
        last_success: when the last cycle completed (UTC), None before the first.
        conflicts: items acknowledged with a policy conflict and not yet dismissed.
        rejected: items the service refused and not yet dismissed or resubmitted.
        snapshot_done: rows of the running snapshot applied so far.
        snapshot_total: rows of the running snapshot in all (0 when no snapshot is running).
        last_error: code of the last error (``offline``, ``auth_expired``…), None after success.
    """

    state: Connectivity = "offline"
    waiting: int = 0
    last_success: datetime | None = None
    conflicts: int = 0
    rejected: int = 0
    snapshot_done: int = 0
    snapshot_total: int = 0
    last_error: str | None = None


Subscriber = Callable[[StatusSnapshot], None]


class SyncStatus:
    """Thread-safe holder of the current :class:`StatusSnapshot` that notifies subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = StatusSnapshot()
        self._subscribers: list[Subscriber] = []

    @property
    def snapshot(self) -> StatusSnapshot:
        """The current status."""
        with self._lock:
            return self._snapshot

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(snapshot)`` after every change; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def update(self, **changes: Any) -> StatusSnapshot:
        """Change some fields; subscribers are told only when something really changed.

        Args:
            **changes: fields of :class:`StatusSnapshot` and their new values.

        Returns:
            The new snapshot.
        """
        with self._lock:
            new = dataclasses.replace(self._snapshot, **changes)
            changed = new != self._snapshot
            self._snapshot = new
            subscribers = list(self._subscribers) if changed else []
        for callback in subscribers:
            callback(new)
        return new
