"""What the sync engine needs from the local store (``agentdesk.store``), as typing Protocols.

The engine is written against these shapes so it can be unit-tested and so the dependency on the
store stays one-directional and explicit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from agentdesk.protocol import Change, PushResult
from agentdesk.protocol.raw import RawChange, RawPushItem

__all__ = ["SyncStore"]


class SyncStore(Protocol):
    """The store calls the engine makes (see docs/TEAM-CONTRACTS.md "Store API")."""

    def prepare(self) -> None:
        """Repair what a crash left (requeue items sent but never answered)."""

    def requeue_unanswered(self) -> None:
        """Items marked in flight that the last push did not answer go back to pending."""

    def take_batch(self, max_items: int, max_bytes: int) -> Sequence[RawPushItem]:
        """The next pending items in ``client_seq`` order, within both limits, marked as sent
        in the same commit (they stay in the outbox until acknowledged)."""

    def apply_push_results(self, results: Sequence[PushResult]) -> None:
        """Record per-item results in one transaction."""

    def apply_changes(
        self,
        changes: Sequence[Change | RawChange],
        cursor: str,
        *,
        up_to_date: bool,
        snapshot: bool,
    ) -> None:
        """Apply one pull page and advance the cursor, in one transaction (snapshot pages may
        share one; it is committed by the next call of the store or :meth:`flush`)."""

    def flush(self) -> None:
        """Commit the snapshot pages applied in a still open transaction, if any."""

    def sync_cursor(self) -> str:
        """The persisted pull cursor (empty: start with a snapshot)."""

    def reset_cache(self) -> None:
        """Drop the disposable cache tables and the cursor; never touches the outbox."""

    def counts(self) -> Any:
        """Outbox counts by state (``waiting``, ``conflict``, ``rejected``)."""
