"""Rules that block: the contact (or pitch) does not come back by itself.

Only a claim held by someone else lifts on its own, when its lease ends (``until``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agentdesk.domain import Campaign, Channel, Claim, CustomerAttributes, TargetListEntry
from agentdesk.policy.decision import Reason, ReasonCode
from agentdesk.policy.history import Facts
from agentdesk.policy.rules import RuleKind, RuleSet, format_window

__all__ = ["campaign_blocks", "customer_blocks"]


def _sensitive(customer: CustomerAttributes, channel: Channel) -> bool:
    if channel in customer.sensitive_channels:
        return True
    return customer.is_sensitive and not customer.sensitive_channels


def customer_blocks(
    customer: CustomerAttributes,
    channel: Channel,
    facts: Facts,
    claims: Sequence[Claim],
    rules: RuleSet,
    now: datetime,
    user_id: str | None,
) -> list[Reason]:
    """Blocks that hold for the customer on this channel, whatever the campaign."""
    reasons: list[Reason] = []
    channel_detail = {"channel": channel.value}
    for rule in rules.of_kind(RuleKind.DO_NOT_CONTACT):
        if customer.do_not_contact:
            reasons.append(Reason(code=ReasonCode.DO_NOT_CONTACT, rule_id=rule.rule_id))
    for rule in rules.of_kind(RuleKind.SENSITIVE_CHANNEL):
        request = facts.dnc_request(channel, now)
        if _sensitive(customer, channel) or request is not None:
            detail = dict(channel_detail)
            if request is not None:
                detail["requested_in"] = request.contact_id
            reasons.append(
                Reason(code=ReasonCode.SENSITIVE_CHANNEL, rule_id=rule.rule_id, detail=detail)
            )
    for rule in rules.of_kind(RuleKind.CONSENT):
        if channel in customer.consent_opt_out:
            reasons.append(
                Reason(code=ReasonCode.CONSENT, rule_id=rule.rule_id, detail=dict(channel_detail))
            )
    for rule in rules.of_kind(RuleKind.CLAIM):
        reasons += [
            _claim_reason(claim, rule.rule_id)
            for claim in sorted(claims, key=lambda c: (c.lease_until, c.claim_id))
            if claim.customer_id == customer.customer_id
            and claim.holder_id != user_id
            and claim.held_at(now)
        ]
    return reasons


def _claim_reason(claim: Claim, rule_id: str) -> Reason:
    detail = {
        "holder_id": claim.holder_id,
        "holder_name": claim.holder_name,
        "channel": claim.channel.value,
        "fence": claim.fence,
        "lease_until": claim.lease_until.isoformat(),
    }
    return Reason(
        code=ReasonCode.CLAIMED_BY_OTHER, rule_id=rule_id, detail=detail, until=claim.lease_until
    )


def _limit(rule_limit: int, campaign_limit: int) -> int:
    """The stricter of the rule's and the campaign's limit (0 = not set)."""
    if rule_limit > 0 and campaign_limit > 0:
        return min(rule_limit, campaign_limit)
    return max(rule_limit, campaign_limit, 0)


def campaign_blocks(
    campaign: Campaign,
    customer_id: str,
    facts: Facts,
    rules: RuleSet,
    now: datetime,
    targets: Sequence[TargetListEntry],
) -> list[Reason]:
    """Blocks that end this campaign for this customer."""
    reasons: list[Reason] = []
    cid = campaign.campaign_id
    base: dict[str, Any] = {"campaign_id": cid}
    for rule in rules.of_kind(RuleKind.CONTROL_GROUP):
        if any(
            t.campaign_id == cid and t.customer_id == customer_id and t.in_control_group
            for t in targets
        ):
            reasons.append(Reason(code=ReasonCode.CONTROL_GROUP, rule_id=rule.rule_id, detail=base))
    for rule in rules.of_kind(RuleKind.VALIDITY):
        if campaign.status != "active" or now >= campaign.valid_to:
            detail = {**base, "status": campaign.status, "valid_to": campaign.valid_to.isoformat()}
            reasons.append(
                Reason(code=ReasonCode.OUTSIDE_VALIDITY, rule_id=rule.rule_id, detail=detail)
            )
    worked = facts.campaign_contacts(cid)
    counts = (
        (
            RuleKind.CAMPAIGN_ATTEMPTS,
            ReasonCode.CAMPAIGN_ATTEMPTS,
            len(worked),
            campaign.max_attempts,
        ),
        (
            RuleKind.CAMPAIGN_REACHED,
            ReasonCode.CAMPAIGN_REACHED,
            sum(c.reached for c in worked),
            campaign.max_reached,
        ),
    )
    for kind, code, used, campaign_limit in counts:
        for rule in rules.of_kind(kind):
            limit = _limit(rule.limit, campaign_limit)
            if limit and used >= limit:
                detail = {**base, "limit": limit, "used": used}
                reasons.append(Reason(code=code, rule_id=rule.rule_id, detail=detail))
    for rule in rules.of_kind(RuleKind.DECLINE_LIMIT):
        declines = [
            d for d in facts.campaign_declines(cid) if now - rule.window < d.started_at <= now
        ]
        if rule.limit and len(declines) >= rule.limit:
            detail = {**base, "limit": rule.limit, "used": len(declines)}
            detail["window"] = format_window(rule.window)
            reasons.append(
                Reason(code=ReasonCode.DECLINED_TOO_OFTEN, rule_id=rule.rule_id, detail=detail)
            )
    return reasons
