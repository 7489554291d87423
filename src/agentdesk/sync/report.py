"""The result of one sync cycle."""

from __future__ import annotations

from dataclasses import dataclass

from agentdesk.sync.errors import SyncError

__all__ = ["SyncReport"]


@dataclass(slots=True)
class SyncReport:
    """What one :meth:`SyncEngine.run_once` did.

    Attributes:
        pushed: items sent (counting re-sends after a cut connection).
        acked: items the service stored (``applied`` or ``duplicate``).
        conflicts: items stored with a policy conflict (``applied_with_conflict``).
        rejected: items the service refused (intents, invalid payloads).
        retry: the service asked to retry an item; the push stopped there.
        retry_after: seconds the service asked to wait before that retry, if it said.
        write_checkpoint: the highest ``server_seq`` given to this device's items in this cycle.
        pulled: changes applied from the feed.
        pages: pull pages applied.
        reset: the service answered ``reset_required`` and the cache was rebuilt.
        cancelled: the cycle stopped early because it was asked to.
        error: the error that ended the cycle, None when it completed.
    """

    pushed: int = 0
    acked: int = 0
    conflicts: int = 0
    rejected: int = 0
    retry: bool = False
    retry_after: float | None = None
    write_checkpoint: int = 0
    pulled: int = 0
    pages: int = 0
    reset: bool = False
    cancelled: bool = False
    error: SyncError | None = None

    @property
    def ok(self) -> bool:
        """The cycle completed: no error, no pending retry, not cancelled."""
        return self.error is None and not self.retry and not self.cancelled
