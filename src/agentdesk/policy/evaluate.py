"""Evaluate whether a marketing contact (or a pitch) may happen now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentdesk.domain import Campaign, Channel, Claim, Contact, CustomerAttributes, TargetListEntry
from agentdesk.policy.decision import Decision, Outcome
from agentdesk.policy.rules import RuleSet

__all__ = ["evaluate"]


def evaluate(
    customer: CustomerAttributes,
    channel: Channel,
    campaign: Campaign | None,
    history: Sequence[Contact],
    claims: Sequence[Claim],
    rules: RuleSet,
    now: datetime,
    *,
    user_id: str | None = None,
    inbound: bool = False,
    offer_id: str | None = None,
    targets: Sequence[TargetListEntry] = (),
    campaigns: Sequence[Campaign] = (),
) -> Decision:
    """Decide whether ``user_id`` may contact ``customer`` on ``channel`` now (stub)."""
    del customer, campaign, history, claims, rules, now, user_id, offer_id, targets, campaigns
    return Decision(outcome=Outcome.ALLOWED, inbound=inbound or channel.customer_initiated)
