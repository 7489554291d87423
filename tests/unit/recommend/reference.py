"""A straightforward reference of the contact policy and the recommendation engine.

The product shares work between the offers of one customer (one history scan, one policy
judgement per channel and per campaign, indexes by rule kind, by campaign and by offer). This
module does none of that: it judges every offer from scratch, scanning the history and the rule
list each time, the way the engine did before it was made fast. The property tests of
``test_fast_path.py`` require both to return exactly the same answers.

It reuses the pieces whose code the fast path does not change: the customer blocks, the timed
checks (caps, gap, quiet hours, cool-down, start, priority), ``earliest_free`` and the rounding
of the factors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agentdesk.domain import (
    Campaign,
    Channel,
    Claim,
    Contact,
    CustomerAttributes,
    CustomerView,
    Offer,
    Reaction,
    ResultCode,
    TargetListEntry,
)
from agentdesk.policy import Budget, Decision, Outcome, Reason, ReasonCode, Rule, RuleKind, RuleSet
from agentdesk.policy.blocking import customer_blocks
from agentdesk.policy.evaluate import earliest_free
from agentdesk.policy.history import Facts
from agentdesk.policy.quiet import local_zone
from agentdesk.policy.rules import format_window
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
from agentdesk.recommend import Factors, RankedOffer, RecommendationResult

__all__ = ["of_kind", "reference_evaluate", "reference_recommend", "reference_score"]


def of_kind(rules: RuleSet, kind: RuleKind) -> tuple[Rule, ...]:
    """The enabled rules of one kind, in file order, by scanning the whole rule list."""
    return tuple(r for r in rules.rules if r.kind is kind and r.enabled)


# --- history queries, by scanning -------------------------------------------------------------


def _in_campaign(contact: Contact, campaign_id: str) -> bool:
    return contact.campaign_id == campaign_id or any(
        r.campaign_id == campaign_id for r in contact.reactions
    )


def _declined_campaign(contact: Contact, campaign_id: str) -> bool:
    if contact.campaign_id == campaign_id and contact.result_code is ResultCode.REACHED_DECLINED:
        return True
    return any(
        r.reaction is Reaction.DECLINE and (r.campaign_id or contact.campaign_id) == campaign_id
        for r in contact.reactions
    )


def _offer_declines(facts: Facts, offer_id: str) -> tuple[Contact, ...]:
    return tuple(
        c
        for c in facts.contacts
        if any(r.offer_id == offer_id and r.reaction is Reaction.DECLINE for r in c.reactions)
    )


# --- the policy, one pitch at a time ----------------------------------------------------------


def _limit(rule_limit: int, campaign_limit: int) -> int:
    limits = [n for n in (rule_limit, campaign_limit) if n > 0]
    return min(limits, default=0)


def _campaign_blocks(
    campaign: Campaign,
    customer_id: str,
    facts: Facts,
    rules: RuleSet,
    now: datetime,
    targets: Sequence[TargetListEntry],
) -> list[Reason]:
    reasons: list[Reason] = []
    cid = campaign.campaign_id
    base: dict[str, Any] = {"campaign_id": cid}
    for rule in of_kind(rules, RuleKind.CONTROL_GROUP):
        if any(
            t.campaign_id == cid and t.customer_id == customer_id and t.in_control_group
            for t in targets
        ):
            reasons.append(Reason(code=ReasonCode.CONTROL_GROUP, rule_id=rule.rule_id, detail=base))
    for rule in of_kind(rules, RuleKind.VALIDITY):
        if campaign.status != "active" or now >= campaign.valid_to:
            detail = {**base, "status": campaign.status, "valid_to": campaign.valid_to.isoformat()}
            reasons.append(
                Reason(code=ReasonCode.OUTSIDE_VALIDITY, rule_id=rule.rule_id, detail=detail)
            )
    worked = [c for c in facts.contacts if _in_campaign(c, cid)]
    counts = {
        RuleKind.CAMPAIGN_ATTEMPTS: (len(worked), campaign.max_attempts),
        RuleKind.CAMPAIGN_REACHED: (sum(c.reached for c in worked), campaign.max_reached),
    }
    codes = {
        RuleKind.CAMPAIGN_ATTEMPTS: ReasonCode.CAMPAIGN_ATTEMPTS,
        RuleKind.CAMPAIGN_REACHED: ReasonCode.CAMPAIGN_REACHED,
    }
    for kind, (used, campaign_limit) in counts.items():
        for rule in of_kind(rules, kind):
            limit = _limit(rule.limit, campaign_limit)
            if limit and used >= limit:
                detail = {**base, "limit": limit, "used": used}
                reasons.append(Reason(code=codes[kind], rule_id=rule.rule_id, detail=detail))
    for rule in of_kind(rules, RuleKind.DECLINE_LIMIT):
        declines = [
            d
            for d in facts.contacts
            if _declined_campaign(d, cid) and now - rule.window < d.started_at <= now
        ]
        if rule.limit and len(declines) >= rule.limit:
            detail = {**base, "limit": rule.limit, "used": len(declines)}
            detail["window"] = format_window(rule.window)
            reasons.append(
                Reason(code=ReasonCode.DECLINED_TOO_OFTEN, rule_id=rule.rule_id, detail=detail)
            )
    return reasons


def _caps(facts: Facts, rules: RuleSet, channel: Channel) -> list[CapCheck]:
    return [
        CapCheck(rule, facts.marketing_on(rule.channels))
        for rule in of_kind(rules, RuleKind.FREQUENCY_CAP)
        if rule.applies_to(channel)
    ]


def _competitors(
    campaign: Campaign,
    customer_id: str,
    facts: Facts,
    targets: Sequence[TargetListEntry],
    campaigns: Sequence[Campaign],
) -> tuple[Campaign, ...]:
    wanted = {
        t.campaign_id for t in targets if t.customer_id == customer_id and not t.in_control_group
    }
    rivals = []
    for other in campaigns:
        if other.campaign_id not in wanted or other.priority <= campaign.priority:
            continue
        worked = [c for c in facts.contacts if _in_campaign(c, other.campaign_id)]
        reached = sum(c.reached for c in worked)
        if len(worked) < other.max_attempts and reached < other.max_reached:
            rivals.append(other)
    return tuple(sorted(rivals, key=lambda k: k.campaign_id))


def _timed_checks(
    customer: CustomerAttributes,
    channel: Channel,
    campaign: Campaign | None,
    facts: Facts,
    rules: RuleSet,
    offer_id: str | None,
    targets: Sequence[TargetListEntry],
    campaigns: Sequence[Campaign],
) -> list[TimedCheck]:
    caps = _caps(facts, rules, channel)
    checks: list[TimedCheck] = list(caps)
    checks += [GapCheck(rule, facts.marketing) for rule in of_kind(rules, RuleKind.MIN_GAP)]
    zone = local_zone(rules.timezone_for(customer.region_code))
    checks += [
        QuietCheck(rule, rule.start, rule.end, zone)
        for rule in of_kind(rules, RuleKind.QUIET_HOURS)
        if rule.applies_to(channel) and rule.start is not None and rule.end is not None
    ]
    if offer_id is not None:
        declines = _offer_declines(facts, offer_id)
        checks += [
            CooldownCheck(rule, offer_id, declines) for rule in of_kind(rules, RuleKind.COOLDOWN)
        ]
    if campaign is not None:
        checks += [StartCheck(rule, campaign) for rule in of_kind(rules, RuleKind.VALIDITY)]
        rivals = _competitors(campaign, customer.customer_id, facts, targets, campaigns)
        global_caps = tuple(c for c in caps if not c.rule.channels)
        checks += [
            PriorityCheck(rule, global_caps, rivals)
            for rule in of_kind(rules, RuleKind.PRIORITY)
            if rivals and global_caps
        ]
    return checks


def _budget_at(facts: Facts, rules: RuleSet, channel: Channel, now: datetime) -> Budget | None:
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


def reference_evaluate(
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
    """What :func:`agentdesk.policy.evaluate` answers, computed from scratch."""
    inbound = inbound or channel.customer_initiated
    facts = Facts.build(history, customer.customer_id)
    blocks = customer_blocks(customer, channel, facts, claims, rules, now, user_id)
    if campaign is not None:
        blocks += _campaign_blocks(campaign, customer.customer_id, facts, rules, now, targets)
    checks = _timed_checks(
        customer, channel, campaign, facts, rules, offer_id, targets, campaigns
    )  # fmt: skip
    deferring = [r for c in checks if (r := c.reason_at(now)) is not None]
    budget = _budget_at(facts, rules, channel, now)
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


# --- offers, one at a time --------------------------------------------------------------------

_KEYWORDS = (
    ("data", ("data", "流量", "gprs", "4g", "5g")),
    ("broadband", ("broadband", "宽带", "fiber", "光纤")),
    ("handset", ("handset", "phone", "手机", "终端")),
    ("plan", ("plan", "tariff", "套餐", "资费")),
    ("e_channel", ("app", "online", "网上", "e-channel")),
)


def _theme(offer: Offer) -> str:
    text = f"{offer.product_code} {offer.title}".lower()
    for theme, words in _KEYWORDS:
        if any(w in text for w in words):
            return theme
    return "other"


def _holds(view: CustomerView, product_code: str) -> bool:
    return any(h.product_code == product_code and h.status == "active" for h in view.holdings)


def _contract_block(view: CustomerView, offer: Offer, now: datetime) -> Reason | None:
    if _theme(offer) != "plan":
        return None
    ends = [
        h.ends_on
        for h in view.holdings
        if h.kind == "contract" and h.status == "active" and h.ends_on is not None
    ]
    far = [end for end in ends if (end - now.date()).days > 60]
    if not far:
        return None
    end = max(far)
    return Reason(
        code="under_contract", detail={"ends_on": end.isoformat(), "days": (end - now.date()).days}
    )


def _product_blocks(
    view: CustomerView, offer: Offer, history: Sequence[Contact], now: datetime
) -> list[Reason]:
    found = []
    segment = view.attributes.segment_id
    if offer.eligible_segments and segment not in offer.eligible_segments:
        allowed = [s.value for s in offer.eligible_segments]
        found.append(
            Reason(code="segment_mismatch", detail={"segment": segment.value, "eligible": allowed})
        )
    if _holds(view, offer.product_code):
        found.append(Reason(code="already_owns", detail={"product_code": offer.product_code}))
    accepted = [
        c.contact_id
        for c in history
        if c.customer_id == view.customer_id
        and any(r.offer_id == offer.offer_id and r.reaction is Reaction.ACCEPT for r in c.reactions)
    ]
    if accepted:
        found.append(Reason(code="already_accepted", detail={"contact_ids": sorted(accepted)}))
    contract = _contract_block(view, offer, now)
    if contract is not None:
        found.append(contract)
    if offer.requires_product and not _holds(view, offer.requires_product):
        found.append(
            Reason(code="requires_product", detail={"product_code": offer.requires_product})
        )
    if offer.excludes_product and _holds(view, offer.excludes_product):
        found.append(
            Reason(code="excludes_product", detail={"product_code": offer.excludes_product})
        )
    return found


def _reason(code: str, factor: float, **detail: object) -> Reason:
    return Reason(code=code, detail={"factor": round(factor, 3), **detail})


def _factor_reasons(
    view: CustomerView,
    offer: Offer,
    campaign: Campaign,
    entry: TargetListEntry | None,
    now: datetime,
) -> list[Reason]:
    found: list[Reason | None] = []
    ends = [h.ends_on for h in view.holdings if h.ends_on and h.status == "active"]
    if view.attributes.bundle_expiry:
        ends.append(view.attributes.bundle_expiry)
    soon = [d for d in ((end - now.date()).days for end in ends) if 0 <= d <= 60]
    found.append(_reason("bundle_expiry", 1.5, days=min(soon)) if soon else None)
    data = None
    if _theme(offer) in ("data", "plan"):
        allowance = sum(
            h.data_allowance_mb
            for h in view.holdings
            if h.kind in ("plan", "data_pack") and h.status == "active"
        )
        recent = sorted(view.usage, key=lambda u: u.month)[-3:]
        if allowance > 0 and recent:
            over = [r for r in (u.data_mb / allowance for u in recent) if r >= 1.5]
            if len(over) >= 2:
                ratio = sum(over) / len(over)
                data = _reason(
                    "data_over_plan",
                    1 + min(ratio, 4.0) / 2,
                    ratio=round(ratio, 1),
                    months=len(over),
                )
    found.append(data)
    level = view.churn.risk_level
    if campaign.kind == "retention" and level != "low":
        factor = 2.0 if level == "high" else 1.4
        found.append(_reason("churn_risk", factor, level=level, reason=view.churn.reason or ""))
    segment = view.attributes.segment_id
    if offer.eligible_segments and segment in offer.eligible_segments:
        found.append(_reason("segment_match", 1.2, segment=segment.value, name=segment.code_name))
    if entry is not None:
        factor = 1.3 + max(0.0, min(entry.score, 1.0))
        found.append(_reason("on_target_list", factor, wave=entry.wave, score=entry.score))
    return [r for r in found if r is not None]


def reference_score(
    view: CustomerView,
    channel: Channel,
    offer: Offer,
    campaign: Campaign,
    targets: Sequence[TargetListEntry],
    now: datetime,
) -> Factors:
    """What :func:`agentdesk.recommend.score_factors` answers, computed from scratch."""
    entry = next(
        (
            t
            for t in targets
            if t.campaign_id == campaign.campaign_id
            and t.customer_id == view.customer_id
            and not t.in_control_group
        ),
        None,
    )
    why_p = _factor_reasons(view, offer, campaign, entry, now)
    propensity = max(offer.base_propensity, 0.001)
    for r in why_p:
        propensity *= r.detail["factor"]
    value = max(offer.value or offer.monthly_fee, 0.01)
    segment = view.attributes.segment_id
    why_v = []
    if segment.high_value:
        value *= 1.2
        why_v = [_reason("high_value", 1.2, segment=segment.value, name=segment.code_name)]
    fit, why_f = 1.0, []
    prefs = view.attributes.channel_preference
    if channel in prefs:
        rank = prefs.index(channel) + 1
        factor = 1.3 if rank == 1 else 1.1
        fit *= factor
        why_f.append(_reason("prefers_channel", factor, channel=channel.value, rank=rank))
    if entry is not None and entry.assigned_channel is not None:
        factor = 1.2 if entry.assigned_channel is channel else 0.8
        fit *= factor
        why_f.append(_reason("assigned_channel", factor, channel=entry.assigned_channel.value))
    weight = max(campaign.priority, 1) / 50
    why_w = (
        [_reason("campaign_priority", weight, priority=campaign.priority)] if weight != 1 else []
    )
    reasons = sorted([*why_p, *why_v, *why_w, *why_f], key=lambda r: (-r.detail["factor"], r.code))
    return Factors(propensity, value, weight, fit, tuple(reasons))


def reference_recommend(
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
    """What :func:`agentdesk.recommend.recommend` answers, judging every offer from scratch."""
    limit = max(1, min(limit, 5))
    by_id = {c.campaign_id: c for c in campaigns}
    ranked: list[RankedOffer] = []
    suppressed: list[tuple[Offer, tuple[Reason, ...]]] = []
    for offer in sorted(offers, key=lambda o: o.offer_id):
        campaign = by_id.get(offer.campaign_id)
        if campaign is None:
            why = (Reason(code="outside_validity", detail={"campaign_id": offer.campaign_id}),)
            suppressed.append((offer, why))
            continue
        blocks = _product_blocks(view, offer, history, now)
        if offer.valid_until is not None and now >= offer.valid_until:
            detail = {"offer_id": offer.offer_id, "valid_to": offer.valid_until.isoformat()}
            blocks.append(Reason(code="outside_validity", rule_id="offer.validity", detail=detail))
        decision = reference_evaluate(
            view.attributes, channel, campaign, history, claims, rules, now,
            user_id=user_id, offer_id=offer.offer_id, targets=targets, campaigns=campaigns,
        )  # fmt: skip
        blocks += decision.reasons
        if blocks:
            suppressed.append((offer, tuple(blocks)))
            continue
        factors = reference_score(view, channel, offer, campaign, targets, now)
        ends = [campaign.valid_to]
        if offer.valid_until is not None:
            ends.append(offer.valid_until)
        ranked.append(
            RankedOffer(
                offer=offer,
                campaign=campaign,
                score=factors.score,
                reasons=factors.reasons,
                script=offer.script_for(channel),
                valid_until=min(ends),
            )
        )
    ranked.sort(key=lambda r: (-r.score, r.offer.offer_id))
    return RecommendationResult(items=tuple(ranked[:limit]), suppressed=tuple(suppressed))
