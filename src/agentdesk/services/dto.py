"""Frozen DTOs the services hand to the UI (never ORM objects, never Qt types).

Texts for people are not produced here: reasons travel as codes (``ReasonLine``) and the UI
translates them at paint time, so a language switch re-renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agentdesk.domain import (
    Campaign,
    Channel,
    Claim,
    Contact,
    CustomerView,
    MarketingOrder,
    OfferReaction,
    ResultCode,
    Role,
    User,
)

__all__ = [
    "AttentionItem",
    "CallListEntry",
    "CampaignLine",
    "CampaignProgress",
    "ClaimReleases",
    "ClaimTicket",
    "CustomerScreen",
    "Freshness",
    "OfferCard",
    "OutcomeDraft",
    "OutcomeSaved",
    "PreclaimSummary",
    "ReasonLine",
    "SearchHit",
    "SearchPage",
    "SupervisorStats",
    "SuppressedOffer",
    "UserSession",
    "Verdict",
    "VisitEntry",
]


@dataclass(frozen=True, slots=True)
class UserSession:
    """Who is logged in on this machine, and with which cache."""

    user: User
    device_id: str
    cache_path: Path
    token: str | None = None
    online: bool = True

    @property
    def role(self) -> Role:
        """Shortcut for ``user.role``."""
        return self.user.role

    @property
    def channel(self) -> Channel | None:
        """The channel this user works on by default (None for supervisors)."""
        channels = self.user.effective_channels
        return channels[0] if channels else None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One row of the search result list (already masked for the user's role)."""

    customer_id: str
    name: str
    phone: str
    id_number: str
    segment: str
    region: str
    vip: bool = False


@dataclass(frozen=True, slots=True)
class SearchPage:
    """The first window of a query's result; later windows are fetched lazily.

    ``counted`` False means the query matched more rows than the first window and the count
    was not taken: ``total`` is then only the rows of that window (shown as "100+"), and the
    count comes separately (:meth:`agentdesk.services.search.SearchService.count`).
    """

    query: str
    total: int
    capped: bool
    first: tuple[SearchHit, ...]
    elapsed_ms: float = 0.0
    counted: bool = True
    filling: bool = False  # a first sync was still filling the cache
    from_service: bool = False  # so the service answered instead of the cache

    @property
    def total_label(self) -> str:
        """``"1000+"`` when the count was capped, ``"100+"`` while it is not taken yet."""
        return f"{self.total}+" if self.capped or not self.counted else str(self.total)


@dataclass(frozen=True, slots=True)
class ReasonLine:
    """A machine reason (code + detail) ready to be explained in the UI language."""

    code: str
    detail: dict[str, Any] = field(default_factory=dict)
    until: datetime | None = None
    rule_id: str | None = None
    kind: str = "policy"  # policy | factor | suppression: which explainer renders it


@dataclass(frozen=True, slots=True)
class Verdict:
    """The contact-policy decision for this customer on the current channel."""

    outcome: str  # allowed | deferred | blocked
    reasons: tuple[ReasonLine, ...] = ()
    deferred_until: datetime | None = None
    budget_left: int | None = None

    @property
    def allowed(self) -> bool:
        """True when contacting (or pitching) is allowed now."""
        return self.outcome == "allowed"


@dataclass(frozen=True, slots=True)
class OfferCard:
    """A recommended offer with its reasons and talk script for the current channel."""

    offer_id: str
    campaign_id: str
    title: str
    score: float
    reasons: tuple[ReasonLine, ...]
    script: str
    monthly_fee: float = 0.0
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class SuppressedOffer:
    """An offer held back, and why."""

    offer_id: str
    title: str
    reasons: tuple[ReasonLine, ...]


@dataclass(frozen=True, slots=True)
class CampaignLine:
    """A campaign this customer is a target of."""

    campaign: Campaign
    in_control_group: bool = False
    wave: int = 1


@dataclass(frozen=True, slots=True)
class Freshness:
    """How fresh each panel's data is; ``live``: read from the service just now (while a first
    sync fills the cache), not from the cache."""

    synced_at: datetime | None = None
    usage_month: str | None = None
    live: bool = False


@dataclass(frozen=True, slots=True)
class CustomerScreen:
    """Everything the customer view shows, computed locally from the cache."""

    view: CustomerView
    channel: Channel | None
    phone: str
    id_number: str
    tenure_days: int | None
    contacts: tuple[Contact, ...]
    orders: tuple[MarketingOrder, ...]
    campaigns: tuple[CampaignLine, ...]
    verdict: Verdict
    offers: tuple[OfferCard, ...]
    suppressed: tuple[SuppressedOffer, ...]
    freshness: Freshness
    other_claim: Claim | None = None
    appointment_slots: tuple[datetime, ...] = ()
    own_claim: ClaimTicket | None = None  # this user's pre-claim (visit plan), still running


@dataclass(frozen=True, slots=True)
class OutcomeDraft:
    """What the outcome form collected."""

    customer_id: str
    channel: Channel
    result_code: ResultCode
    started_at: datetime
    ended_at: datetime
    note: str = ""
    reactions: tuple[OfferReaction, ...] = ()
    next_appointment_at: datetime | None = None
    campaign_id: str | None = None
    claim_id: str | None = None
    fence: int | None = None


@dataclass(frozen=True, slots=True)
class OutcomeSaved:
    """A durably committed outcome (the UI confirms only after this arrives)."""

    contact_id: str
    customer_id: str
    saved_at: datetime
    waiting: int


@dataclass(frozen=True, slots=True)
class ClaimTicket:
    """A claim this user holds on a customer (carried by the outcome as claim id + fence)."""

    claim_id: str
    customer_id: str
    fence: int
    lease_until: datetime
    message: str = ""
    ttl_s: int = 900
    preclaimed: bool = False  # taken with the visit plan: not renewed, not released on close


@dataclass(frozen=True, slots=True)
class ClaimReleases:
    """Claims of visits taken out of the plan: given back now, or still to give back.

    Attributes:
        released: customers whose claim the service took back.
        waiting: customer id -> lease end, for claims not given back yet (no connection);
            they are given back at the next sync or run out at their lease end.
    """

    released: tuple[str, ...] = ()
    waiting: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class CallListEntry:
    """One line of the outbound call list."""

    customer_id: str
    name: str
    phone: str
    score: float
    campaign_name: str
    outcome: str  # policy verdict now: allowed | deferred | blocked
    due_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class VisitEntry:
    """One customer of the field portfolio or of today's visit plan."""

    customer_id: str
    name: str
    churn_level: str  # low | medium | high
    segment: str
    value_tier: int
    planned: bool = False
    visited: bool = False
    contacts_30d: int = 0
    claim_until: datetime | None = None  # pre-claimed (or claimed) until, server time
    refused: str | None = None  # why pre-claiming was refused: claimed | policy_blocked | ...
    refused_by: str = ""  # who holds the customer, when ``refused == "claimed"``
    refused_since: datetime | None = None  # since when they hold it (the claim's acquired_at)
    refused_reasons: tuple[ReasonLine, ...] = ()  # the policy's reasons, for ``policy_blocked``


@dataclass(frozen=True, slots=True)
class PreclaimSummary:
    """What "Claim my visits" got: the plan with each visit's answer, and the counts."""

    plan: tuple[VisitEntry, ...]
    held: int
    refused: int
    left_out: int = 0  # planned visits beyond the 200 that may be pre-claimed
    hours: float = 12.0


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    """Per-campaign figures for the supervisor charts."""

    campaign_id: str
    name: str
    targets: int
    contacted: int
    reached: int
    accepted: int
    control_size: int = 0
    control_accepted: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    treatment_took: int | None = None
    """Treated customers who took the offer by any route (contact or holding), for the lift."""


@dataclass(frozen=True, slots=True)
class SupervisorStats:
    """What the supervisor view charts."""

    campaigns: tuple[CampaignProgress, ...]
    conflicts_by_type: dict[str, int]
    conflicts_by_channel: dict[str, int]
    recent_conflicts: tuple[AttentionItem, ...] = ()


@dataclass(frozen=True, slots=True)
class AttentionItem:
    """A conflict or rejected outbox item the user must look at."""

    item_id: str
    kind: str
    state: str  # conflict | rejected
    customer_id: str
    code: str
    detail: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
