"""Next best offers for one customer on one channel (一户一荐)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentdesk.domain import Campaign, Channel, Claim, Contact, CustomerView, Offer, TargetListEntry
from agentdesk.policy import RuleSet
from agentdesk.recommend.result import RecommendationResult

__all__ = ["recommend"]


def recommend(
    view: CustomerView,
    channel: Channel,
    offers: Sequence[Offer],
    campaigns: Sequence[Campaign],
    targets: Sequence[TargetListEntry],
    history: Sequence[Contact],
    claims: Sequence[Claim],
    rules: RuleSet,
    now: datetime,
    limit: int = 3,
    *,
    user_id: str | None = None,
) -> RecommendationResult:
    """Rank the eligible offers (stub: nothing yet)."""
    del view, channel, offers, campaigns, targets, history, claims, rules, now, limit, user_id
    return RecommendationResult()
