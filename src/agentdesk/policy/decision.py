"""What a policy evaluation returns: outcome, reasons, budget, and push-time violations.

Domain and policy code return machine-readable reason codes only; :mod:`agentdesk.policy.texts`
turns them into one line an agent understands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from agentdesk.domain import Channel

__all__ = ["Budget", "Decision", "Outcome", "Reason", "ReasonCode", "Violation"]


class Outcome(StrEnum):
    """The three answers of the policy."""

    ALLOWED = "allowed"
    DEFERRED = "deferred"  # comes back by itself at ``deferred_until``
    BLOCKED = "blocked"  # does not come back by itself (or only when a lease ends)


class ReasonCode(StrEnum):
    """Why a contact or pitch is deferred or blocked (stable wire names)."""

    FREQUENCY_CAP = "frequency_cap"
    CHANNEL_CAP = "channel_cap"
    CAMPAIGN_ATTEMPTS = "campaign_attempts"
    CAMPAIGN_REACHED = "campaign_reached"
    MIN_GAP = "min_gap"
    QUIET_HOURS = "quiet_hours"
    DO_NOT_CONTACT = "do_not_contact"
    SENSITIVE_CHANNEL = "sensitive_channel"
    CONSENT = "consent"
    SUPPRESSED = "suppressed"
    DECLINED_TOO_OFTEN = "declined_too_often"
    CLAIMED_BY_OTHER = "claimed_by_other"
    CONTROL_GROUP = "control_group"
    PRIORITY = "priority"
    OUTSIDE_VALIDITY = "outside_validity"
    STALE_FENCE = "stale_fence"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """One machine-readable reason: code, the rule that fired, details and when it lifts."""

    code: str
    rule_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    """Marketing-contact budget left in the tightest cap window (e.g. ``7d``)."""

    window: str
    limit: int
    used: int
    remaining: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The answer of :func:`agentdesk.policy.evaluate`.

    ``deferred_until`` is set only for ``DEFERRED``: the earliest instant at which every
    deferring rule is satisfied at once, assuming no new history. ``inbound`` marks a decision
    about pitching during a customer-initiated contact (the contact itself is always allowed).
    """

    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    deferred_until: datetime | None = None
    budget: Budget | None = None
    inbound: bool = False

    @property
    def allowed(self) -> bool:
        """True when the contact (or the pitch) may happen now."""
        return self.outcome is Outcome.ALLOWED

    @property
    def dropped(self) -> bool:
        """Blocked for good: no blocking reason lifts by itself."""
        return self.outcome is Outcome.BLOCKED and all(r.until is None for r in self.reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order."""
        return tuple(r.code for r in self.reasons)


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A rule a contact that already happened broke (flagged at push, never rejected)."""

    type: str
    rule_id: str
    limit: str = ""
    count_after: int = 0
    other_contact_ids: tuple[str, ...] = ()
    other_channel: Channel | None = None
    other_agent_id: str | None = None
    claim_until: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)
