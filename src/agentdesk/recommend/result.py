"""Result types of the recommendation engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentdesk.domain import Campaign, Offer
from agentdesk.policy import Reason

__all__ = ["RankedOffer", "RecommendationResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RankedOffer:
    """One recommended offer with its score, the reasons behind it and the channel's script."""

    offer: Offer
    campaign: Campaign
    score: float
    reasons: tuple[Reason, ...]
    script: str
    valid_until: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecommendationResult:
    """Top offers, best first, and the offers held back with why."""

    items: tuple[RankedOffer, ...] = ()
    suppressed: tuple[tuple[Offer, tuple[Reason, ...]], ...] = ()
