"""One agent's work: claim, read the view, ask the policy at the simulated instant, contact, push.

Online agents contact only when :func:`agentdesk.policy.evaluate` (the client's pre-check, the
same code as the server's) allows it at the simulated instant, on the view the service just
returned while they hold the claim. Offline agents use their morning snapshot plus their own
contacts and fill an outbox.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agentdesk.domain import (
    Campaign,
    Channel,
    Contact,
    CustomerAttributes,
    Offer,
    OfferReaction,
    Reaction,
    ResultCode,
    TargetListEntry,
)
from agentdesk.policy import Decision, Outcome, RuleSet, evaluate
from agentdesk.protocol import from_row
from agentdesk_sync.simulate.crew import Agent, Known

__all__ = ["Tally", "World", "act", "fetch", "push"]

_PACE = {"call_centre": 4.0, "store": 12.0, "field": 40.0, "sms": 15.0}  # minutes per action
_SMS_BATCH = 20
_CLAIM = {"purpose": "visit_plan", "ttl_s": 600}
Choice = tuple[Campaign | None, Offer | None, Decision]


@dataclass(frozen=True, slots=True)
class World:
    """Shared, read-only facts of the simulation."""

    rules: RuleSet
    offers: dict[str, list[Offer]]
    start: datetime
    end: datetime


@dataclass
class Tally:
    """What happened during the day (thread-safe)."""

    contacts: int = 0
    requests: int = 0
    blocked: int = 0
    deferred: int = 0
    deferred_then_contacted: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    made: dict[str, bool] = field(default_factory=dict)  # contact id -> made online
    flagged: dict[str, set[str]] = field(default_factory=dict)  # contact id -> conflict types
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, n: int = 1) -> None:
        """Count ``n`` more of ``name``."""
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def refused(self, codes: Iterable[str]) -> None:
        """Count one blocked attempt and its reason codes."""
        with self.lock:
            self.blocked += 1
            self.reasons.update(str(c) for c in codes)


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fetch(agent: Agent, customer_id: str, tally: Tally) -> Known:
    """Read the unified view from the service."""
    tally.add("requests")
    answer = agent.call("GET", f"/v1/customers/{customer_id}")
    answer.raise_for_status()
    view = answer.json()
    return Known(
        attrs=from_row(view.get("attributes", view), CustomerAttributes),
        history=[
            from_row({k: v for k, v in r.items() if k != "result"}, Contact)
            for r in view.get("recent_contacts", [])
        ],
        targets=[from_row(r, TargetListEntry) for r in view.get("targets", [])],
        campaigns=[from_row(r, Campaign) for r in view.get("campaigns", [])],
    )


def _options(
    agent: Agent, channel: Channel, know: Known, at: datetime, world: World
) -> list[tuple[Campaign | None, Offer | None]]:
    """Campaigns targeting the customer on ``channel`` now, best priority first."""
    camps = {k.campaign_id: k for k in know.campaigns}
    options: list[tuple[Campaign | None, Offer | None]] = []
    for entry in sorted(know.targets, key=lambda e: e.campaign_id):
        camp = camps.get(entry.campaign_id)
        if camp is None or entry.in_control_group or not camp.active_at(at):
            continue
        if channel not in camp.channels and not channel.customer_initiated:
            continue
        segment = know.attrs.segment_id
        fits = [o for o in world.offers.get(camp.campaign_id, [])
                if not o.eligible_segments or segment in o.eligible_segments]  # fmt: skip
        options.append((camp, fits[0] if fits else None))
    options.sort(key=lambda o: -(o[0].priority if o[0] else 0))
    if not options and agent.role == "field":
        options.append((None, None))  # a relationship visit: marketing by channel, no campaign
    return options


def _decide(agent: Agent, channel: Channel, know: Known, at: datetime, world: World) -> Choice:
    """The first option the policy allows now, else the refusal that lifts soonest."""
    refused: list[Choice] = []
    for camp, offer in _options(agent, channel, know, at, world):
        decision = evaluate(
            know.attrs, channel, camp, know.history, (), world.rules, at,
            user_id=agent.user, offer_id=offer.offer_id if offer else None,
            targets=know.targets, campaigns=know.campaigns,
        )  # fmt: skip
        if decision.allowed:
            return camp, offer, decision
        refused.append((camp, offer, decision))
    deferred = [r for r in refused if r[2].deferred_until is not None]
    if deferred:
        return min(deferred, key=lambda r: r[2].deferred_until or at)
    return refused[0] if refused else (None, None, Decision(outcome=Outcome.BLOCKED))


def _result(agent: Agent, channel: Channel, pitched: bool) -> tuple[ResultCode, Reaction | None]:
    rng = agent.rng
    if channel in (Channel.OUTBOUND_CALL, Channel.PHONE) and rng.random() < 0.35:
        return rng.choice((ResultCode.NOT_REACHED_NO_ANSWER, ResultCode.NOT_REACHED_BUSY)), None
    if not pitched:
        return ResultCode.REACHED_NO_OFFER, None
    if channel == Channel.SMS:
        return ResultCode.REACHED_NO_OFFER, Reaction.LATER
    roll = rng.random()
    if roll < 0.15:
        return ResultCode.REACHED_ACCEPTED, Reaction.ACCEPT
    if roll < 0.5:
        return ResultCode.REACHED_DECLINED, Reaction.DECLINE
    if roll < 0.65:
        return ResultCode.REACHED_CALLBACK, Reaction.LATER
    return ResultCode.REACHED_NO_OFFER, Reaction.LATER


def _contact(
    agent: Agent, channel: Channel, customer_id: str, at: datetime, pitch: Choice | None
) -> Contact:
    """A contact made now; ``pitch`` is the campaign and offer pitched (None: service only)."""
    camp, offer = (pitch[0], pitch[1]) if pitch else (None, None)
    code, reaction = _result(agent, channel, camp is not None)
    reactions: tuple[OfferReaction, ...] = ()
    if reaction is not None and offer is not None and camp is not None:
        reactions = (OfferReaction(offer_id=offer.offer_id, reaction=reaction,
                                   campaign_id=camp.campaign_id),)  # fmt: skip
    return Contact(
        contact_id=str(uuid.UUID(int=agent.rng.getrandbits(128), version=4)),
        customer_id=customer_id,
        channel=channel,
        started_at=at,
        ended_at=at + timedelta(minutes=1 if channel == Channel.SMS else 6),
        result_code=code,
        staff_id=agent.user,
        campaign_id=camp.campaign_id if camp else None,
        next_appointment_at=at + timedelta(days=2) if code.needs_appointment else None,
        reactions=reactions,
    )


def _item(agent: Agent, contact: Contact) -> dict[str, Any]:
    agent.seq += 1
    payload: dict[str, Any] = {
        "contact_id": contact.contact_id,
        "customer_id": contact.customer_id,
        "channel": contact.channel.value,
        "started_at": _ts(contact.started_at),
        "ended_at": _ts(contact.ended_at),
        "result_code": contact.result_code.value,
        "campaign_id": contact.campaign_id,
        "reactions": [
            {"offer_id": r.offer_id, "reaction": r.reaction.value, "campaign_id": r.campaign_id}
            for r in contact.reactions
        ],
    }
    if contact.next_appointment_at is not None:
        payload["next_appointment_at"] = _ts(contact.next_appointment_at)
    item_id = contact.contact_id
    return {"id": item_id, "seq": agent.seq, "kind": "contact", "schema": 1, "payload": payload}


def push(agent: Agent, items: list[dict[str, Any]], tally: Tally) -> None:
    """Push contacts (≤ 500 per request, resending ``retry`` items) and record the flags."""
    pending = list(items)
    while pending:
        tally.add("requests")
        body = {"device_id": f"dev-{agent.user}", "items": pending[:500]}
        answer = agent.call("POST", "/v1/sync/push", json=body)
        answer.raise_for_status()
        done = 0
        for result in answer.json()["results"]:
            if result["status"] == "retry":
                time.sleep(0.1)
                break
            if result["status"] not in ("applied", "applied_with_conflict", "duplicate"):
                raise RuntimeError(f"push of {result['id']} failed: {result}")
            conflict = result.get("conflict") or {}
            types = {r["code"] for r in conflict.get("reasons", [])}
            with tally.lock:
                tally.flagged[result["id"]] = types | ({conflict["type"]} if conflict else set())
            done += 1
        pending = pending[done:]


def _claim(agent: Agent, channel: Channel, customer_id: str, tally: Tally) -> dict[str, Any] | None:
    """Claim the customer; on a refusal count its reasons and answer None."""
    tally.add("requests")
    body = {"customer_id": customer_id, "channel": channel.value, **_CLAIM}
    answer = agent.call("POST", "/v1/claims", json=body)
    if answer.status_code in (200, 201):
        return dict(answer.json())
    error = answer.json().get("error", {})
    if answer.status_code != 409:
        raise RuntimeError(f"claim refused: {answer.status_code} {error}")
    if error.get("code") == "claimed":
        tally.refused(["claimed_by_other"])
    else:
        tally.refused(r["code"] for r in error.get("details", {}).get("reasons", []))
    return None


def _release(agent: Agent, claim: dict[str, Any], tally: Tally) -> None:
    tally.add("requests")
    agent.call("DELETE", f"/v1/claims/{claim['claim_id']}")


def _note(agent: Agent, customer_id: str, decision: Decision, world: World, tally: Tally) -> None:
    """Count a refusal; a deferred customer returns to a proactive agent's list."""
    until = decision.deferred_until
    if until is None:
        tally.refused(decision.codes or ("no_campaign",))
        return
    tally.add("deferred")
    if agent.channel.customer_initiated or until >= world.end:
        return
    agent.deferred.add(customer_id)
    agent.requeue(until, customer_id)


def _attempt(
    agent: Agent, channel: Channel, customer_id: str, at: datetime, world: World, tally: Tally
) -> float:
    """One contact attempt; answers the minutes it took."""
    proactive = not channel.customer_initiated
    claim = None
    if agent.online:
        claim = _claim(agent, channel, customer_id, tally)
        if claim is None and proactive:
            return 0.5
        know = fetch(agent, customer_id, tally)
    else:
        know = agent.snapshot[customer_id]
    choice = _decide(agent, channel, know, at, world)
    allowed = choice[2].allowed and (claim is not None or not agent.online)
    if not choice[2].allowed:
        _note(agent, customer_id, choice[2], world, tally)
    if not allowed and proactive:
        if claim is not None:
            _release(agent, claim, tally)
        return 0.5
    contact = _contact(agent, channel, customer_id, at, choice if allowed else None)
    item = _item(agent, contact)
    with tally.lock:
        tally.contacts += 1
        tally.made[contact.contact_id] = agent.online
        if customer_id in agent.deferred and contact.is_marketing:
            tally.deferred_then_contacted += 1
            agent.deferred.discard(customer_id)
    if claim is not None:
        item.update(claim_id=claim["claim_id"], fence=claim["fence"])
    if agent.online:
        push(agent, [item], tally)
    else:
        agent.outbox.append(item)
        know.history.append(contact)
    return (contact.ended_at - contact.started_at).total_seconds() / 60 + 2


def act(agent: Agent, at: datetime, world: World, tally: Tally) -> float:
    """The agent's next piece of work at ``at``; answers the minutes until the next one."""
    pace = _PACE[agent.role]
    if agent.role == "call_centre" and agent.inbound and agent.rng.random() < 0.25:
        caller = agent.inbound.pop()
        return max(pace, _attempt(agent, Channel.INBOUND_CALL, caller, at, world, tally))
    if agent.role == "sms":
        for _ in range(_SMS_BATCH):
            recipient = agent.next_ready(at)
            if recipient is None:
                break
            _attempt(agent, agent.channel, recipient, at, world, tally)
        return pace
    customer_id = agent.next_ready(at)
    if customer_id is None:
        return pace
    return max(pace, _attempt(agent, agent.channel, customer_id, at, world, tally))
