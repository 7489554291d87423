"""Evaluate whether a marketing contact (or a pitch) may happen now.

One pure function for every channel, human or automated, identical on client and server.
The answer is ``allowed``, ``deferred`` (comes back by itself at the exact instant
``deferred_until``) or ``blocked`` (dropped, or held by another user's claim until its lease
ends). A customer-initiated contact (``inbound=True`` or an inbound channel) is always served;
the decision then says whether an offer may be *pitched* during it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentdesk.domain import (
    Campaign,
    Channel,
    Claim,
    Contact,
    CustomerAttributes,
    TargetListEntry,
)
from agentdesk.policy.blocking import campaign_blocks, customer_blocks
from agentdesk.policy.decision import Budget, Decision, Outcome, Reason, ReasonCode
from agentdesk.policy.history import Facts, in_campaign
from agentdesk.policy.quiet import local_zone
from agentdesk.policy.rules import RuleKind, RuleSet, format_window
from agentdesk.policy.timed import (
    CapCheck,
    CooldownCheck,
    GapCheck,
    PriorityCheck,
    QuietCheck,
    StartCheck,
    TimedCheck,
)
from agentdesk.policy.timeline import count_in

__all__ = ["budget_at", "earliest_free", "evaluate", "timed_checks"]

_MAX_STEPS = 10_000


def _caps(facts: Facts, rules: RuleSet, channel: Channel) -> list[CapCheck]:
    return [
        CapCheck(rule, facts.marketing_on(rule.channels))
        for rule in rules.of_kind(RuleKind.FREQUENCY_CAP)
        if rule.applies_to(channel)
    ]


def _competitors(
    campaign: Campaign,
    customer_id: str,
    facts: Facts,
    targets: Sequence[TargetListEntry],
    campaigns: Sequence[Campaign],
) -> tuple[Campaign, ...]:
    """Higher-priority campaigns that target the customer and are not done with them."""
    wanted = {
        t.campaign_id for t in targets if t.customer_id == customer_id and not t.in_control_group
    }
    rivals = []
    for other in campaigns:
        if other.campaign_id not in wanted or other.priority <= campaign.priority:
            continue
        worked = [c for c in facts.contacts if in_campaign(c, other.campaign_id)]
        reached = sum(c.reached for c in worked)
        if len(worked) < other.max_attempts and reached < other.max_reached:
            rivals.append(other)
    return tuple(sorted(rivals, key=lambda k: k.campaign_id))


def timed_checks(
    customer: CustomerAttributes,
    channel: Channel,
    campaign: Campaign | None,
    facts: Facts,
    rules: RuleSet,
    *,
    offer_id: str | None = None,
    targets: Sequence[TargetListEntry] = (),
    campaigns: Sequence[Campaign] = (),
) -> list[TimedCheck]:
    """Every time-dependent rule that applies to this contact."""
    caps = _caps(facts, rules, channel)
    checks: list[TimedCheck] = list(caps)
    checks += [GapCheck(rule, facts.marketing) for rule in rules.of_kind(RuleKind.MIN_GAP)]
    zone = local_zone(rules.timezone_for(customer.region_code))
    checks += [
        QuietCheck(rule, rule.start, rule.end, zone)
        for rule in rules.of_kind(RuleKind.QUIET_HOURS)
        if rule.applies_to(channel) and rule.start is not None and rule.end is not None
    ]
    if offer_id is not None:
        declines = facts.offer_declines(offer_id)
        checks += [
            CooldownCheck(rule, offer_id, declines) for rule in rules.of_kind(RuleKind.COOLDOWN)
        ]
    if campaign is not None:
        checks += [StartCheck(rule, campaign) for rule in rules.of_kind(RuleKind.VALIDITY)]
        rivals = _competitors(campaign, customer.customer_id, facts, targets, campaigns)
        global_caps = tuple(c for c in caps if not c.rule.channels)
        checks += [
            PriorityCheck(rule, global_caps, rivals)
            for rule in rules.of_kind(RuleKind.PRIORITY)
            if rivals and global_caps
        ]
    return checks


def earliest_free(checks: Sequence[TimedCheck], now: datetime) -> datetime:
    """The earliest instant ``>= now`` at which every check holds at once.

    Each step jumps to the latest of the failing checks' own free instants: no instant before it
    can satisfy them all, so the first instant where none fails is the exact answer.
    """
    moment = now
    for _ in range(_MAX_STEPS):
        untils = [r.until for c in checks if (r := c.reason_at(moment)) is not None]
        if not untils:
            return moment
        moment = max(u for u in untils if u is not None)
    raise RuntimeError("policy: no free instant found")  # pragma: no cover


def budget_at(facts: Facts, rules: RuleSet, channel: Channel, now: datetime) -> Budget | None:
    """The budget left in the tightest cap window that covers ``channel``."""
    budgets = []
    for cap in _caps(facts, rules, channel):
        window = cap.rule.window
        used = count_in([c.started_at for c in cap.contacts], now - window, now)
        remaining = max(0, cap.rule.limit - used)
        budgets.append((remaining, window, cap.rule.limit, used))
    if not budgets:
        return None
    remaining, window, limit, used = min(budgets)
    return Budget(window=format_window(window), limit=limit, used=used, remaining=remaining)


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
    """Decide whether ``user_id`` may contact (or pitch to) ``customer`` on ``channel`` at ``now``.

    Args:
        customer: the customer's attributes (do-not-contact, sensitive channels, consent, region).
        channel: the channel of the contact.
        campaign: the campaign the contact works on, if any.
        history: the customer's known contacts (any order; other customers' are ignored).
        claims: known claims; a valid claim of another user blocks until its lease ends.
        rules: the rule set.
        now: the instant of the contact (timezone-aware).
        user_id: who asks; their own claims do not block them.
        inbound: a customer-initiated contact: the decision is about pitching only.
        offer_id: the offer to pitch, for the per-offer cool-down.
        targets: target-list entries of the customer (control groups, priority rivals).
        campaigns: campaigns known to the caller, for priority arbitration.

    Returns:
        The decision with its reasons, ``deferred_until`` and the budget left.
    """
    inbound = inbound or channel.customer_initiated
    facts = Facts.build(history, customer.customer_id)
    blocks = customer_blocks(customer, channel, facts, claims, rules, now, user_id)
    if campaign is not None:
        blocks += campaign_blocks(campaign, customer.customer_id, facts, rules, now, targets)
    checks = timed_checks(
        customer,
        channel,
        campaign,
        facts,
        rules,
        offer_id=offer_id,
        targets=targets,
        campaigns=campaigns,
    )
    deferring = [r for c in checks if (r := c.reason_at(now)) is not None]
    budget = budget_at(facts, rules, channel, now)
    if blocks:
        reasons = tuple(blocks + deferring)
        return Decision(outcome=Outcome.BLOCKED, reasons=reasons, budget=budget, inbound=inbound)
    if not deferring:
        return Decision(outcome=Outcome.ALLOWED, budget=budget, inbound=inbound)
    until = earliest_free(checks, now)
    if campaign is not None and until >= campaign.valid_to:
        ends = Reason(
            code=ReasonCode.OUTSIDE_VALIDITY,
            rule_id="campaign.validity",
            detail={"campaign_id": campaign.campaign_id, "valid_to": campaign.valid_to.isoformat()},
        )
        return Decision(
            outcome=Outcome.BLOCKED, reasons=(*deferring, ends), budget=budget, inbound=inbound
        )
    return Decision(
        outcome=Outcome.DEFERRED,
        reasons=tuple(deferring),
        deferred_until=until,
        budget=budget,
        inbound=inbound,
    )
