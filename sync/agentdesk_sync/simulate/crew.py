"""The simulated staff: users created in the store, and each one's customers for the day."""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentdesk.domain import Campaign, Channel, Contact, CustomerAttributes, TargetListEntry
from agentdesk.protocol import from_row
from agentdesk.recommend import call_list_score
from agentdesk_sync.auth import create_user
from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine

__all__ = ["PASSWORD", "Agent", "Known", "build_crew", "request_with_retry"]

PASSWORD = "sim-pass-1"
_CHANNEL = {
    "call_centre": Channel.OUTBOUND_CALL,
    "store": Channel.STORE,
    "field": Channel.FIELD_VISIT,
    "sms": Channel.SMS,
}
_WALK_INS = 60
_INBOUND_CALLS = 60
_CALL_LIST = 400
_EARLY = datetime.min.replace(tzinfo=UTC)
_RETRIES = 20


def request_with_retry(
    client: httpx.Client, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """Send a request; on 503/429 wait (``Retry-After``, at most 2 s) and retry, 20 times."""
    for attempt in range(_RETRIES):
        answer = client.request(method, url, **kwargs)
        if answer.status_code not in (429, 503) or attempt == _RETRIES - 1:
            return answer
        wait = float(answer.headers.get("Retry-After", "0.2") or 0.2)
        time.sleep(min(2.0, wait, 0.05 * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Known:
    """What an agent knows of one customer."""

    attrs: CustomerAttributes
    history: list[Contact]
    targets: list[TargetListEntry]
    campaigns: list[Campaign]


@dataclass
class Agent:
    """One simulated user and their working state (touched only by their own events)."""

    user: str
    role: str
    channel: Channel
    online: bool
    rng: random.Random
    queue: list[tuple[datetime, int, str]] = field(default_factory=list)  # (ready_at, n, id)
    inbound: list[str] = field(default_factory=list)
    client: httpx.Client | None = None
    snapshot: dict[str, Known] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    deferred: set[str] = field(default_factory=set)
    seq: int = 0

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """An HTTP request that waits and retries while the service answers 503 or 429."""
        if self.client is None:
            raise RuntimeError(f"{self.user} is not logged in")
        return request_with_retry(self.client, method, url, **kwargs)

    def requeue(self, at: datetime, customer_id: str) -> None:
        """Put a customer back on the list, ready at ``at``."""
        heapq.heappush(self.queue, (at, len(self.queue) + 10**6, customer_id))

    def next_ready(self, at: datetime) -> str | None:
        """The next customer ready at ``at``, if any."""
        if self.queue and self.queue[0][0] <= at:
            return heapq.heappop(self.queue)[2]
        return None


@dataclass(frozen=True, slots=True)
class _Data:
    ids: list[str]
    regions: list[str]
    region_of: dict[str, str]
    targets: dict[str, list[TargetListEntry]]
    history: dict[str, list[Contact]]
    campaigns: dict[str, Campaign]


def _roles(n: int) -> list[str]:
    """Half call centre, a fifth store, the rest field (at least one of the first two)."""
    calls = max(1, round(n * 0.5))
    stores = max(1, round(n * 0.2)) if n > 1 else 0
    return ["call_centre"] * calls + ["store"] * stores + ["field"] * max(0, n - calls - stores)


def _load(session: Session, campaigns: dict[str, Campaign]) -> _Data:
    rows = session.execute(select(m.Customer.customer_id, m.Customer.region_code)).all()
    targets: dict[str, list[TargetListEntry]] = {}
    for row in session.scalars(select(m.TargetMember.row)):
        entry = from_row(row, TargetListEntry)
        targets.setdefault(entry.customer_id, []).append(entry)
    history: dict[str, list[Contact]] = {}
    for row in session.scalars(select(m.Contact.row)):
        contact = from_row({k: v for k, v in row.items() if k != "result"}, Contact)
        history.setdefault(contact.customer_id, []).append(contact)
    return _Data(
        ids=sorted(r.customer_id for r in rows),
        regions=sorted({r.region_code for r in rows}),
        region_of={r.customer_id: r.region_code for r in rows},
        targets=targets,
        history=history,
        campaigns=campaigns,
    )


def _targeted(data: _Data, channel: Channel) -> list[str]:
    """Customers on a target list (not control) of a campaign that uses ``channel``."""
    return [
        c
        for c in data.ids
        if any(
            not e.in_control_group
            and e.campaign_id in data.campaigns
            and channel in data.campaigns[e.campaign_id].channels
            for e in data.targets.get(c, [])
        )
    ]


def _queue(agent: Agent, data: _Data, portfolio: list[str], region: str, start: datetime) -> None:
    rng = agent.rng
    if agent.role == "field":
        chosen = portfolio
    elif agent.role == "store":
        local = [c for c in data.ids if data.region_of[c] == region] or data.ids
        chosen = [rng.choice(local) for _ in range(_WALK_INS)]
    else:
        chosen = _targeted(data, agent.channel)
        rng.shuffle(chosen)
    if agent.role == "call_centre":
        agent.inbound = [rng.choice(data.ids) for _ in range(_INBOUND_CALLS)]
        chosen = sorted(
            chosen[:_CALL_LIST],
            key=lambda c: (
                -call_list_score(
                    CustomerAttributes(customer_id=c, msisdn="", name=""),
                    data.history.get(c, []),
                    start,
                ).score
            ),
        )
    agent.queue = [(_EARLY, n, c) for n, c in enumerate(chosen)]


def build_crew(
    url: str,
    agents: int,
    offline_share: float,
    seed: int,
    campaigns: dict[str, Campaign],
    start: datetime,
) -> list[Agent]:
    """Create the users in the store and give each their customers for the day.

    Offline agents are ``round(agents × offline_share)`` of the humans, field managers first,
    then store clerks, then call-centre agents. The SMS sender is always online.
    """
    roles = _roles(agents)
    order = sorted(range(agents), key=lambda i: ({"field": 0, "store": 1}.get(roles[i], 2), i))
    offline = set(order[: round(agents * offline_share)])
    engine = make_engine(url)
    crew: list[Agent] = []
    try:
        with Session(engine) as session:
            data = _load(session, campaigns)
            pool = _targeted(data, Channel.OUTBOUND_CALL)  # also on the call centre's lists
            random.Random(seed).shuffle(pool)
            pool += sorted(set(data.ids) - set(pool))
            fields = [i for i, r in enumerate(roles) if r == "field"]
            share = max(5, min(150, len(pool) // max(1, 2 * len(fields))))
            for i, role in enumerate(roles):
                agent = Agent(f"sim-{role}-{i:02d}", role, _CHANNEL[role], i not in offline,
                              random.Random(seed * 1000 + i))  # fmt: skip
                region = data.regions[i % len(data.regions)]
                mine = pool[fields.index(i) * share :][:share] if role == "field" else []
                scope = {"call_centre": data.regions, "store": [region]}.get(role, [])
                create_user(session, agent.user, PASSWORD, role, scope, [], mine, name=agent.user)
                _queue(agent, data, mine, region, start)
                crew.append(agent)
            sms = Agent("sim-sms", "sms", Channel.SMS, True, random.Random(seed * 1000 + 999))
            create_user(session, sms.user, PASSWORD, "call_centre", data.regions, ["sms"])
            _queue(sms, data, [], "", start)
            crew.append(sms)
            session.commit()
    finally:
        engine.dispose()
    return crew
