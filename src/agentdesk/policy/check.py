"""Push-time check: which rules a contact that already happened broke.

A contact is a fact: the server records it whatever this says and flags the violations
(``applied_with_conflict``). Every check uses the contact's own ``started_at``, never the wall
clock, and compares it with the other contacts of the ledger on both sides of it in time: an
offline contact pushed hours later is the one flagged when it collides with a contact that was
made, correctly, while it was still unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentdesk.domain import Claim, Contact, CustomerAttributes
from agentdesk.policy.blocking import customer_blocks
from agentdesk.policy.decision import Reason, ReasonCode, Violation
from agentdesk.policy.history import Facts
from agentdesk.policy.quiet import in_quiet_hours, local_zone
from agentdesk.policy.rules import RuleKind, RuleSet, format_window
from agentdesk.policy.timed import CapCheck, CooldownCheck, GapCheck
from agentdesk.policy.timeline import worst_window

__all__ = ["check_contact"]

# Customer-level blocks are reported with the pinned conflict types.
_BLOCK_TYPES = {
    ReasonCode.DO_NOT_CONTACT: "do_not_contact",
    ReasonCode.SENSITIVE_CHANNEL: "sensitive_channel",
    ReasonCode.CONSENT: "sensitive_channel",
}


def _against(
    kind: str, rule_id: str, limit: str, count_after: int, others: Sequence[Contact]
) -> Violation:
    """A violation against other contacts (``others`` is never empty, sorted by time)."""
    return Violation(
        type=kind,
        rule_id=rule_id,
        limit=limit,
        count_after=count_after,
        other_contact_ids=tuple(c.contact_id for c in others),
        other_channel=others[-1].channel,
        other_agent_id=others[-1].staff_id,
    )


def _cap_violation(cap: CapCheck, contact: Contact) -> Violation | None:
    t, window = contact.started_at, cap.rule.window
    times = [c.started_at for c in cap.contacts]
    end, load = worst_window(times, t, window)
    if load <= cap.rule.limit:
        return None
    counted = [c for c in cap.contacts if end - window < c.started_at <= end]
    limit = f"{cap.rule.limit}/{format_window(window)}"
    return _against("frequency_cap", cap.rule.rule_id, limit, load, counted)


def _gap_violation(gap: GapCheck, contact: Contact) -> Violation | None:
    if gap.ok(contact.started_at):
        return None
    near = [c for c in gap.contacts if abs(c.started_at - contact.started_at) < gap.rule.window]
    limit = format_window(gap.rule.window)
    return _against("min_gap", gap.rule.rule_id, limit, len(near) + 1, near)


def _block_violation(reason: Reason) -> Violation:
    detail = reason.detail
    if reason.code == ReasonCode.CLAIMED_BY_OTHER:
        return Violation(
            type="claimed_by_other",
            rule_id=reason.rule_id or "",
            other_agent_id=detail["holder_id"],
            other_channel=None,
            claim_until=reason.until,
            detail=detail,
        )
    return Violation(type=_BLOCK_TYPES[ReasonCode(reason.code)], rule_id=reason.rule_id or "")


def _marketing_violations(
    contact: Contact, customer: CustomerAttributes, facts: Facts, rules: RuleSet
) -> list[Violation]:
    found: list[Violation] = []
    t = contact.started_at
    for rule in rules.of_kind(RuleKind.FREQUENCY_CAP):
        if rule.applies_to(contact.channel):
            cap = _cap_violation(CapCheck(rule, facts.marketing_on(rule.channels)), contact)
            found += [cap] if cap else []
    for rule in rules.of_kind(RuleKind.MIN_GAP):
        gap = _gap_violation(GapCheck(rule, facts.marketing), contact)
        found += [gap] if gap else []
    found += _quiet_violations(contact, customer, rules)
    for reaction in contact.reactions:
        declines = facts.offer_declines(reaction.offer_id)
        for rule in rules.of_kind(RuleKind.COOLDOWN):
            reason = CooldownCheck(rule, reaction.offer_id, declines).reason_at(t)
            if reason is not None:
                found.append(
                    Violation(
                        type="suppressed",
                        rule_id=rule.rule_id,
                        limit=format_window(rule.window),
                        count_after=1,
                        other_contact_ids=tuple(reason.detail["contact_ids"]),
                        detail=reason.detail,
                    )
                )
    return found


def _quiet_violations(
    contact: Contact, customer: CustomerAttributes, rules: RuleSet
) -> list[Violation]:
    zone = local_zone(rules.timezone_for(customer.region_code))
    return [
        Violation(
            type="quiet_hours",
            rule_id=rule.rule_id,
            limit=f"{rule.start:%H:%M}-{rule.end:%H:%M}",
            count_after=1,
            detail={"timezone": zone.key},
        )
        for rule in rules.of_kind(RuleKind.QUIET_HOURS)
        if rule.applies_to(contact.channel)
        and rule.start is not None
        and rule.end is not None
        and in_quiet_hours(contact.started_at, rule.start, rule.end, zone)
    ]


def check_contact(
    contact: Contact,
    customer: CustomerAttributes,
    history: Sequence[Contact],
    claims: Sequence[Claim],
    rules: RuleSet,
    *,
    fence: int | None = None,
    current_fence: int | None = None,
) -> list[Violation]:
    """The rules ``contact`` broke, judged at its own ``started_at`` against the other contacts.

    Args:
        contact: the contact that happened.
        customer: the customer's attributes as the server knows them.
        history: the customer's other contacts in the ledger (the contact itself is ignored).
        claims: claims of the customer; another user's lease covering ``started_at`` is a conflict.
        rules: the rule set.
        fence: the fence the contact was made under, if any.
        current_fence: the customer's current fence on the server.

    Returns:
        The violations, stale fence first, then blocks, caps, gaps, quiet hours, cool-downs.
    """
    found: list[Violation] = []
    if fence is not None and current_fence is not None and fence < current_fence:
        found.append(
            Violation(
                type="stale_fence",
                rule_id="claim.fence",
                limit=f">={current_fence}",
                detail={"fence": fence, "current_fence": current_fence},
            )
        )
    if not contact.is_marketing:
        return found
    facts = Facts.build(history, contact.customer_id, exclude=contact.contact_id)
    at: datetime = contact.started_at
    blocks = customer_blocks(customer, contact.channel, facts, claims, rules, at, contact.staff_id)
    found += [_block_violation(r) for r in blocks]
    found += _marketing_violations(contact, customer, facts, rules)
    return found
