"""The working day: every agent's events in simulated-time order, a few at a time in parallel.

Events are taken in waves of one simulated minute. Agents in the same wave work in parallel
threads (each agent has at most one event in a wave, so its state is never shared); claims make
two agents on one customer take turns, and whoever claims second reads the first one's contact.
Offline agents push their outbox every three hours and at the end of the day.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from agentdesk_sync.simulate.crew import Agent
from agentdesk_sync.simulate.work import Tally, World, act, fetch, push

__all__ = ["prepare", "run_day"]

_PUSH_EVERY = timedelta(hours=3)
_WAVE = timedelta(minutes=1)
_WORKERS = 4


def _snapshot(agent: Agent, tally: Tally) -> None:
    """An offline agent reads every customer of their day before going offline."""
    wanted = [c for _, _, c in sorted(agent.queue)] + agent.inbound
    for customer_id in wanted:
        if customer_id not in agent.snapshot:
            agent.snapshot[customer_id] = fetch(agent, customer_id, tally)


def prepare(crew: list[Agent], login: Callable[[Agent], None], tally: Tally) -> None:
    """Log everyone in and let offline agents take their snapshot (in parallel)."""

    def one(agent: Agent) -> None:
        login(agent)
        if not agent.online:
            _snapshot(agent, tally)

    with ThreadPoolExecutor(_WORKERS) as pool:
        list(pool.map(one, crew))


Event = tuple[datetime, int, int]


def _schedule(crew: list[Agent], world: World) -> list[Event]:
    events: list[Event] = []  # (when, kind: 0 push / 1 act, agent index)
    for i, agent in enumerate(crew):
        offset = timedelta(seconds=agent.rng.randrange(0, 300))
        events.append((world.start + offset, 1, i))
        if not agent.online:
            push_at = world.start + _PUSH_EVERY
            while push_at < world.end:
                events.append((push_at, 0, i))
                push_at += _PUSH_EVERY
            events.append((world.end, 0, i))
    heapq.heapify(events)
    return events


def run_day(crew: list[Agent], world: World, tally: Tally) -> None:
    """Run the day; offline outboxes go up at their push times."""
    events = _schedule(crew, world)
    with ThreadPoolExecutor(_WORKERS) as pool:
        while events:
            wave_end = events[0][0] + _WAVE
            wave = []
            while events and events[0][0] < wave_end:
                wave.append(heapq.heappop(events))
            for _, kind, i in wave:
                if kind == 0:
                    push(crew[i], crew[i].outbox, tally)
                    crew[i].outbox = []
            acting = [(at, i) for at, kind, i in wave if kind == 1 and at < world.end]
            spent = pool.map(lambda e: act(crew[e[1]], e[0], world, tally), acting)
            for (at, i), minutes in zip(acting, spent, strict=True):
                heapq.heappush(events, (at + timedelta(minutes=minutes), 1, i))
