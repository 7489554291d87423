"""Evaluate whether a marketing contact (or a pitch) may happen now.

One pure function for every channel, human or automated, identical on client and server.
The answer is ``allowed``, ``deferred`` (comes back by itself at the exact instant
``deferred_until``) or ``blocked`` (dropped, or held by another user's claim until its lease
ends). A customer-initiated contact (``inbound=True`` or an inbound channel) is always served;
the decision then says whether an offer may be *pitched* during it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from agentdesk.domain import (
    Campaign,
    Channel,
    Claim,
    Contact,
    CustomerAttributes,
    Reaction,
    TargetListEntry,
)
from agentdesk.policy.blocking import campaign_blocks, customer_blocks
from agentdesk.policy.decision import Budget, Decision, Outcome, Reason, ReasonCode
from agentdesk.policy.history import Facts
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

__all__ = ["Evaluator", "earliest_free", "evaluate"]

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
        worked = facts.campaign_contacts(other.campaign_id)
        reached = sum(c.reached for c in worked)
        if len(worked) < other.max_attempts and reached < other.max_reached:
            rivals.append(other)
    return tuple(sorted(rivals, key=lambda k: k.campaign_id))


def _budget(caps: Sequence[CapCheck], now: datetime) -> Budget | None:
    """The budget left in the tightest cap window among ``caps``."""
    budgets = []
    for cap in caps:
        window = cap.rule.window
        used = count_in([c.started_at for c in cap.contacts], now - window, now)
        remaining = max(0, cap.rule.limit - used)
        budgets.append((remaining, window, cap.rule.limit, used))
    if not budgets:
        return None
    remaining, window, limit, used = min(budgets)
    return Budget(window=format_window(window), limit=limit, used=used, remaining=remaining)


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


@dataclass(frozen=True, slots=True)
class _CampaignPart:
    """What one campaign adds to a decision: its blocks and its time-dependent checks."""

    blocks: tuple[Reason, ...]
    checks: tuple[TimedCheck, ...]
    deferring: tuple[Reason, ...]  # the checks' reasons at ``now``


_NO_PART = _CampaignPart(blocks=(), checks=(), deferring=())


class _Remembered:
    """A timed check that remembers its answer per instant.

    The customer's own checks (caps, gap, quiet hours) are asked at the same instants by the
    search for the free instant of every campaign; their answer depends on the instant only (and
    on its time zone, which the quiet hours keep in their ``until``: hence the key).
    """

    __slots__ = ("_answers", "_check")

    def __init__(self, check: TimedCheck) -> None:
        self._check = check
        self._answers: dict[tuple[datetime, object], Reason | None] = {}

    def reason_at(self, t: datetime) -> Reason | None:
        """See :class:`~agentdesk.policy.timed.TimedCheck`."""
        key = (t, t.tzinfo)
        answers = self._answers
        if key not in answers:
            answers[key] = self._check.reason_at(t)
        return answers[key]


class Evaluator:
    """The contact policy for one customer on one channel at one instant, for many pitches.

    Building it does the work every pitch shares once: the history is filtered and sorted, the
    customer's blocks (do-not-contact, sensitive channel, consent, claims), the caps, the gap and
    the quiet hours are judged, and the budget is counted. :meth:`decide` then adds what a
    campaign (validity, control group, attempts, declines, priority) and an offer (cool-down after
    a decline) add; each campaign is judged once, and offers the customer never declined share
    their campaign's decision. ``Evaluator(...).decide(campaign, offer_id)`` returns exactly what
    :func:`evaluate` returns for the same arguments (:func:`evaluate` is built on it).
    """

    __slots__ = (
        "_blocks",
        "_budget",
        "_campaigns",
        "_checks",
        "_cooldowns",
        "_customer_id",
        "_decisions",
        "_declines",
        "_deferring",
        "_facts",
        "_global_caps",
        "_inbound",
        "_now",
        "_parts",
        "_rules",
        "_targets",
    )

    def __init__(
        self,
        customer: CustomerAttributes,
        channel: Channel,
        history: Sequence[Contact],
        claims: Sequence[Claim],
        rules: RuleSet,
        now: datetime,
        *,
        user_id: str | None = None,
        inbound: bool = False,
        targets: Sequence[TargetListEntry] = (),
        campaigns: Sequence[Campaign] = (),
    ) -> None:
        """Judge what every pitch to ``customer`` on ``channel`` at ``now`` shares.

        The arguments are those of :func:`evaluate` less the campaign and the offer.
        """
        self._inbound = inbound or channel.customer_initiated
        self._customer_id = customer.customer_id
        self._rules = rules
        self._now = now
        self._targets = targets
        self._campaigns = campaigns
        facts = Facts.build(history, customer.customer_id)
        self._facts = facts
        self._blocks = tuple(customer_blocks(customer, channel, facts, claims, rules, now, user_id))
        caps = _caps(facts, rules, channel)
        checks: list[TimedCheck] = list(caps)
        checks += [GapCheck(rule, facts.marketing) for rule in rules.of_kind(RuleKind.MIN_GAP)]
        zone = local_zone(rules.timezone_for(customer.region_code))
        checks += [
            QuietCheck(rule, rule.start, rule.end, zone)
            for rule in rules.of_kind(RuleKind.QUIET_HOURS)
            if rule.applies_to(channel) and rule.start is not None and rule.end is not None
        ]
        self._checks = tuple(_Remembered(c) for c in checks)
        self._deferring = tuple(r for c in self._checks if (r := c.reason_at(now)) is not None)
        self._global_caps = tuple(c for c in caps if not c.rule.channels)
        self._budget = _budget(caps, now)
        self._cooldowns = rules.of_kind(RuleKind.COOLDOWN)
        self._declines: dict[str, tuple[Contact, ...]] | None = None
        # Keyed by id() of the campaign; the part keeps the campaign alive, so no id is reused.
        self._parts: dict[int, tuple[Campaign, _CampaignPart]] = {}
        self._decisions: dict[tuple[int, str | None], Decision] = {}

    def _offer_declines(self, offer_id: str) -> tuple[Contact, ...]:
        """The contacts in which the customer declined ``offer_id`` (one pass for all offers)."""
        if self._declines is None:
            index: dict[str, list[Contact]] = {}
            for contact in self._facts.contacts:
                offers = {r.offer_id for r in contact.reactions if r.reaction is Reaction.DECLINE}
                for offer in offers:
                    index.setdefault(offer, []).append(contact)
            self._declines = {offer: tuple(found) for offer, found in index.items()}
        return self._declines.get(offer_id, ())

    def _part(self, campaign: Campaign | None) -> _CampaignPart:
        if campaign is None:
            return _NO_PART
        known = self._parts.get(id(campaign))
        if known is not None:
            return known[1]
        rules, facts, now = self._rules, self._facts, self._now
        blocks = campaign_blocks(campaign, self._customer_id, facts, rules, now, self._targets)
        checks: list[TimedCheck] = [
            StartCheck(rule, campaign) for rule in rules.of_kind(RuleKind.VALIDITY)
        ]
        rivals = _competitors(campaign, self._customer_id, facts, self._targets, self._campaigns)
        global_caps = self._global_caps
        checks += [
            PriorityCheck(rule, global_caps, rivals)
            for rule in rules.of_kind(RuleKind.PRIORITY)
            if rivals and global_caps
        ]
        deferring = tuple(r for c in checks if (r := c.reason_at(now)) is not None)
        part = _CampaignPart(blocks=tuple(blocks), checks=tuple(checks), deferring=deferring)
        self._parts[id(campaign)] = (campaign, part)
        return part

    def decide(self, campaign: Campaign | None = None, offer_id: str | None = None) -> Decision:
        """The decision for a contact in ``campaign`` (if any) pitching ``offer_id`` (if any)."""
        part = self._part(campaign)
        # A cool-down without a decline of the offer never fires: such offers share a decision.
        declines = self._offer_declines(offer_id) if offer_id is not None else ()
        own = offer_id if declines and self._cooldowns else None
        key = (id(campaign), own)
        known = self._decisions.get(key)
        if known is None:
            known = self._decide(campaign, part, own, declines)
            self._decisions[key] = known
        return known

    def _decide(
        self,
        campaign: Campaign | None,
        part: _CampaignPart,
        offer_id: str | None,
        declines: tuple[Contact, ...],
    ) -> Decision:
        now, budget, inbound = self._now, self._budget, self._inbound
        cooldowns: list[TimedCheck] = []
        if offer_id is not None:
            cooldowns += [CooldownCheck(rule, offer_id, declines) for rule in self._cooldowns]
        deferring = [
            *self._deferring,
            *(r for c in cooldowns if (r := c.reason_at(now)) is not None),
            *part.deferring,
        ]
        blocks = self._blocks + part.blocks
        if blocks:
            reasons = blocks + tuple(deferring)
            return Decision(
                outcome=Outcome.BLOCKED, reasons=reasons, budget=budget, inbound=inbound
            )
        if not deferring:
            return Decision(outcome=Outcome.ALLOWED, budget=budget, inbound=inbound)
        until = earliest_free([*self._checks, *cooldowns, *part.checks], now)
        if campaign is not None and until >= campaign.valid_to:
            ends = Reason(
                code=ReasonCode.OUTSIDE_VALIDITY,
                rule_id="campaign.validity",
                detail={
                    "campaign_id": campaign.campaign_id,
                    "valid_to": campaign.valid_to.isoformat(),
                },
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
    return Evaluator(
        customer,
        channel,
        history,
        claims,
        rules,
        now,
        user_id=user_id,
        inbound=inbound,
        targets=targets,
        campaigns=campaigns,
    ).decide(campaign, offer_id)
