"""Next best offers for one customer on one channel (一户一荐, docs/contact-policy.md).

Offers are filtered by eligibility (segment, holdings, already accepted, requirements, validity,
control group, per-offer cool-down after a decline, and the contact-policy decision for the
channel), then ranked by ``propensity × value × campaign priority weight × channel fit``. It runs
on cached data, so it works offline; the server repeats the check when the outcome is pushed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentdesk.domain import Campaign, Channel, Claim, Contact, CustomerView, Offer, TargetListEntry
from agentdesk.policy import Reason, RuleSet
from agentdesk.recommend.eligibility import Eligibility
from agentdesk.recommend.factors import Factors, Scorer
from agentdesk.recommend.result import RankedOffer, RecommendationResult

__all__ = ["MAX_ITEMS", "recommend"]

MAX_ITEMS = 5


def _valid_until(offer: Offer, campaign: Campaign) -> datetime:
    ends = [campaign.valid_to]
    if offer.valid_until is not None:
        ends.append(offer.valid_until)
    return min(ends)


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
    """Rank the offers one customer may be offered on ``channel`` now.

    Args:
        view: the unified customer view (attributes, holdings, usage, value, churn).
        channel: the channel the offer would be pitched on.
        offers: candidate offers (of any campaign).
        campaigns: the campaigns of the offers (and rival campaigns, for priority).
        targets: the customer's target-list entries.
        history: the customer's contacts (reactions feed the cool-downs).
        claims: known claims on the customer.
        rules: the contact-policy rule set.
        now: the instant of the pitch.
        limit: how many offers to return (1 to 5).
        user_id: the agent asking; their own claim does not block them.

    Returns:
        The top offers, best first, with reasons, script and validity; and the suppressed
        offers with why (in offer-id order).
    """
    limit = max(1, min(limit, MAX_ITEMS))
    by_id = {c.campaign_id: c for c in campaigns}
    screen = Eligibility(view, channel, campaigns, targets, history, claims, rules, now, user_id)
    scorer: Scorer | None = None
    eligible: list[tuple[Factors, Offer, Campaign]] = []
    suppressed: list[tuple[Offer, tuple[Reason, ...]]] = []
    for offer in sorted(offers, key=lambda o: o.offer_id):
        campaign = by_id.get(offer.campaign_id)
        blocks = screen.blocks(offer, campaign)
        if blocks or campaign is None:
            suppressed.append((offer, tuple(blocks)))
            continue
        if scorer is None:
            scorer = Scorer(view, channel, targets, now)
        eligible.append((scorer.score(offer, campaign), offer, campaign))
    eligible.sort(key=lambda e: (-e[0].score, e[1].offer_id))
    items = tuple(
        RankedOffer(
            offer=offer,
            campaign=campaign,
            score=factors.score,
            reasons=factors.reasons,
            script=offer.script_for(channel),
            valid_until=_valid_until(offer, campaign),
        )
        for factors, offer, campaign in eligible[:limit]
    )
    return RecommendationResult(items=items, suppressed=tuple(suppressed))
