"""Outbound call-list selection score (seed 004 数据优选规则) and ranking.

Seed 004 ranks the customers of an outbound list by their contact history: customers who were
reached before, at the hour they answer, and who bought before, are called first. The score
(0–100) combines:

* the mean result-code score of docs/domain.md over past phone contacts (40 %),
* the reach rate (reached / attempts, 25 %) and the sale rate (accepted / reached, 20 %),
* channel preference for the phone (10 %),
* the best hour to reach: the local hour with most reached contacts equals the current one (5 %),

less 5 points per unanswered attempt in the last 7 days. Customers without history get neutral
rates. :func:`rank_call_list` skips customers the policy blocks now and lists the deferred ones
with the instant they come back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agentdesk.domain import (
    Campaign,
    Channel,
    Claim,
    Contact,
    CustomerAttributes,
    Reaction,
    ResultCode,
    TargetListEntry,
)
from agentdesk.policy import Decision, RuleSet, evaluate
from agentdesk.policy.quiet import local_zone

__all__ = ["CallListEntry", "CallListScore", "RankedCallList", "call_list_score", "rank_call_list"]

_PHONE = (Channel.OUTBOUND_CALL, Channel.PHONE, Channel.INBOUND_CALL)
_NEUTRAL_RESULT = 3.0
_NEUTRAL_REACH = 0.5
_DEFAULT_ZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallListScore:
    """The score of one customer and the figures behind it."""

    customer_id: str
    score: float
    attempts: int
    reach_rate: float
    sale_rate: float
    result_score: float
    best_hour: int | None
    prefers_phone: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CallListEntry:
    """One customer of an outbound list, with what the ranking needs to know."""

    customer: CustomerAttributes
    history: tuple[Contact, ...] = ()
    campaign: Campaign | None = None
    targets: tuple[TargetListEntry, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RankedCallList:
    """Who to call now (best first), who comes back when, and who is out."""

    ready: tuple[tuple[CallListEntry, CallListScore], ...] = ()
    deferred: tuple[tuple[CallListEntry, Decision], ...] = ()
    blocked: tuple[tuple[CallListEntry, Decision], ...] = ()


def _zone_name(customer: CustomerAttributes, rules: RuleSet | None) -> str:
    return rules.timezone_for(customer.region_code) if rules is not None else _DEFAULT_ZONE


def _best_hour(reached: Sequence[Contact], zone: ZoneInfo) -> int | None:
    hours = Counter(c.started_at.astimezone(zone).hour for c in reached)
    if not hours:
        return None
    return min(hours, key=lambda h: (-hours[h], h))


def call_list_score(
    customer: CustomerAttributes,
    history: Sequence[Contact],
    now: datetime,
    *,
    rules: RuleSet | None = None,
) -> CallListScore:
    """Score a customer for an outbound call list from their contact history (0–100)."""
    calls = [
        c
        for c in history
        if c.customer_id == customer.customer_id and c.channel in _PHONE and c.started_at <= now
    ]
    scored = [s for c in calls if (s := c.result_code.score) is not None]
    result = sum(scored) / len(scored) if scored else _NEUTRAL_RESULT
    attempts = [c for c in calls if c.channel is not Channel.INBOUND_CALL]
    reached = [c for c in calls if c.reached]
    reach = len([c for c in attempts if c.reached]) / len(attempts) if attempts else _NEUTRAL_REACH
    sold = [
        c
        for c in reached
        if c.result_code is ResultCode.REACHED_ACCEPTED
        or any(r.reaction is Reaction.ACCEPT for r in c.reactions)
    ]
    sale = len(sold) / len(reached) if reached else 0.0
    prefers = any(p in (Channel.OUTBOUND_CALL, Channel.PHONE) for p in customer.channel_preference)
    zone = local_zone(_zone_name(customer, rules))
    best = _best_hour(reached, zone)
    local_hour = now.astimezone(zone).hour
    recent_misses = [
        c for c in attempts if not c.reached and now - c.started_at < timedelta(days=7)
    ]
    score = (
        40 * result / 5
        + 25 * reach
        + 20 * sale
        + (10 if prefers else 0)
        + (5 if best == local_hour else 0)
        - 5 * len(recent_misses)
    )
    return CallListScore(
        customer_id=customer.customer_id,
        score=round(max(score, 0.0), 3),
        attempts=len(attempts),
        reach_rate=round(reach, 3),
        sale_rate=round(sale, 3),
        result_score=round(result, 3),
        best_hour=best,
        prefers_phone=prefers,
    )


def rank_call_list(
    entries: Sequence[CallListEntry],
    claims: Sequence[Claim],
    rules: RuleSet,
    now: datetime,
    *,
    user_id: str | None = None,
    channel: Channel = Channel.OUTBOUND_CALL,
    campaigns: Sequence[Campaign] = (),
) -> RankedCallList:
    """Rank a call list for one agent: callable now (by score), deferred (by return), blocked."""
    ready, deferred, blocked = [], [], []
    for entry in entries:
        decision = evaluate(
            entry.customer,
            channel,
            entry.campaign,
            entry.history,
            claims,
            rules,
            now,
            user_id=user_id,
            targets=entry.targets,
            campaigns=campaigns,
        )
        if decision.allowed:
            ready.append((entry, call_list_score(entry.customer, entry.history, now, rules=rules)))
        elif decision.deferred_until is not None:
            deferred.append((entry, decision))
        else:
            blocked.append((entry, decision))
    ready.sort(key=lambda p: (-p[1].score, p[0].customer.customer_id))
    deferred.sort(key=lambda p: (p[1].deferred_until, p[0].customer.customer_id))
    blocked.sort(key=lambda p: p[0].customer.customer_id)
    return RankedCallList(ready=tuple(ready), deferred=tuple(deferred), blocked=tuple(blocked))
