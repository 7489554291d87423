"""Users, claims and frontline feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentdesk.domain.enums import Channel, Role

__all__ = ["Claim", "DataIssue", "User"]


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A person (or automated sender) who works with customers."""

    user_id: str
    name: str
    role: Role
    channels: tuple[Channel, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def effective_channels(self) -> tuple[Channel, ...]:
        """Explicit channels, or the role's defaults."""
        return self.channels or self.role.channels


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A lease on a customer while a contact is in progress (docs/sync.md)."""

    claim_id: str
    customer_id: str
    holder_id: str
    channel: Channel
    fence: int
    lease_until: datetime
    purpose: str = "contact"
    holder_name: str = ""
    acquired_at: datetime | None = None  # None: treat as held since ever

    def held_at(self, at: datetime) -> bool:
        """Whether the lease covered instant ``at`` (``acquired_at <= at < lease_until``)."""
        started = self.acquired_at is None or self.acquired_at <= at
        return started and at < self.lease_until

    def valid_at(self, now: datetime) -> bool:
        """Whether the lease still holds at server time ``now``."""
        return self.lease_until > now


@dataclass(frozen=True, slots=True, kw_only=True)
class DataIssue:
    """数据质量问题: a frontline report that some customer data is wrong (seed 001)."""

    issue_id: str
    customer_id: str
    panel: str
    field: str
    reported_value: str
    correct_value: str
    note: str
    reported_by: str
    reported_at: datetime
