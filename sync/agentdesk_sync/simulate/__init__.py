"""``agentdesk-sync simulate``: a multi-channel working day driven over the real HTTP API.

What it models:

* **Its own service.** A fresh store (a temporary SQLite file unless ``--db`` names one) is
  seeded with the deterministic data set (``agentdesk_sync.seed``) and served by an
  ``agentdesk_sync.server`` subprocess on a free port. Users are created with
  ``agentdesk_sync.auth.create_user``: half of the agents work in the call centre (all regions),
  a fifth at store counters (one region each), the rest are field account managers with a
  portfolio; one automated SMS sender (``sim-sms``) works under the same policy.
* **Simulated time.** The day starts at 08:00 Shanghai time on the day after the data set's
  anchor and lasts ``hours``; calls, SMS and visits are in quiet hours until 09:00, so the first
  hour's attempts are deferred and come back at 09:00. Every contact carries its simulated
  ``started_at``; the server's push check judges it at that instant against the whole ledger.
  Claims are leased in wall-clock time and taken with purpose ``visit_plan``, so the server's
  wall-clock pre-check refuses only hard blocks (do-not-contact, sensitive channel, consent)
  and other holders; a lease cannot be compared with simulated contact times, so
  ``claimed_by_other`` never arises at push here.
* **Online agents** claim the customer, read the unified view, run the contact policy at the
  simulated instant (the client's pre-check: the same code as the server's) and contact only
  when it says *allowed*; the contact is pushed at once with its claim and fence. Deferred
  customers return to the agent's list at ``deferred_until``. Call-centre agents work an
  outbound list ordered by the call-list score and take inbound calls (pitching only when
  allowed); store clerks serve walk-ins; field managers visit their portfolio; the SMS sender
  works the SMS target lists.
* **Offline agents** (``offline_share`` of the human agents: field managers first, then store
  clerks, then call-centre agents) read the views of every customer they will see at the start
  of the day, then decide from that snapshot plus their own contacts and push their outbox every
  three hours and at the end of the day, without claims.
* **Judging** (:mod:`agentdesk_sync.simulate.oracle`): the final ledger is replayed through an
  independent oracle. ``violations_online`` (expected 0) counts online contacts that the oracle
  or the server finds in conflict; ``offline_conflicts`` counts offline contacts in conflict and
  ``offline_conflicts_flagged`` those the server answered ``applied_with_conflict`` (expected
  equal); ``flag_mismatches`` counts contacts whose server conflict types differ from the
  oracle's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from agentdesk.domain import Offer
from agentdesk.policy import default_rules
from agentdesk_sync.seed import catalog, seed_database
from agentdesk_sync.simulate.crew import PASSWORD, Agent, build_crew, request_with_retry
from agentdesk_sync.simulate.day import prepare, run_day
from agentdesk_sync.simulate.oracle import oracle_conflicts, verdict
from agentdesk_sync.simulate.service import running_service
from agentdesk_sync.simulate.work import Tally, World

__all__ = ["main", "oracle_conflicts", "run_simulation"]

_DAY_STARTS = dtime(8)  # Shanghai time


def _login(base: str) -> Any:
    def login(agent: Agent) -> None:
        client = httpx.Client(base_url=base, timeout=120)
        body = {"username": agent.user, "password": PASSWORD, "device_id": f"dev-{agent.user}"}
        answer = request_with_retry(client, "POST", "/v1/auth/login", json=body)
        answer.raise_for_status()
        client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        agent.client = client

    return login


def run_simulation(
    db_url: str | None, agents: int, customers: int, hours: float, offline_share: float, seed: int
) -> dict[str, Any]:
    """Seed, serve, simulate a day and judge it; answers the figures (see the module doc)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agentdesk-sim-") as tmp:
        folder = Path(tmp)
        url = db_url or f"sqlite:///{folder / 'simulate.db'}"
        anchor = date.fromisoformat(seed_database(url, customers, seed).anchor)
        campaigns, offers = catalog(anchor)
        by_campaign: dict[str, list[Offer]] = {}
        for offer in sorted(offers, key=lambda o: o.offer_id):
            by_campaign.setdefault(offer.campaign_id, []).append(offer)
        local = datetime.combine(anchor + timedelta(days=1), _DAY_STARTS, ZoneInfo("Asia/Shanghai"))
        start = local.astimezone(UTC)
        world = World(default_rules(), by_campaign, start, start + timedelta(hours=hours))
        camps = {k.campaign_id: k for k in campaigns}
        crew = build_crew(url, agents, offline_share, seed, camps, start)
        tally = Tally()
        with running_service(url, folder) as base:
            prepare(crew, _login(base), tally)
            run_day(crew, world, tally)
            for agent in crew:
                if agent.client is not None:
                    agent.client.close()
        judged = verdict(url, tally.made, tally.flagged)
    return {
        "contacts": tally.contacts,
        **judged,
        "blocked_with_reason": tally.blocked,
        "blocked_by_reason": dict(sorted(tally.reasons.items())),
        "deferred": tally.deferred,
        "deferred_then_contacted": tally.deferred_then_contacted,
        "agents": agents,
        "offline_agents": sum(not a.online for a in crew),
        "customers": customers,
        "hours": hours,
        "requests": tally.requests,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="agentdesk-sync simulate")
    parser.add_argument("--db", default=None)
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--offline-share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(list(argv))


def main(
    db_url: str | Sequence[str] | None = None,
    agents: int = 30,
    customers: int = 2000,
    hours: float = 8.0,
    offline_share: float = 0.3,
    seed: int = 1,
    json_out: bool = False,
) -> int:
    """Run the simulation and print its figures; exit status 0 when the day was clean.

    Call it with the options (``main(db_url, agents, customers, hours, offline_share, seed,
    json_out)``) or with the command-line arguments as a list (``main(["--agents", "6"])``).
    The status is 1 when an online contact broke policy or an offline conflict went unflagged.
    """
    if isinstance(db_url, (list, tuple)):
        args = _parse(db_url)
        db_url, agents, customers = args.db, args.agents, args.customers
        hours, offline_share, seed, json_out = args.hours, args.offline_share, args.seed, args.json
    figures = run_simulation(
        db_url if isinstance(db_url, str) else None, agents, customers, hours, offline_share, seed
    )
    if json_out:
        sys.stdout.write(json.dumps(figures, ensure_ascii=False) + "\n")
    else:
        for key, value in figures.items():
            sys.stdout.write(f"{key:>26}: {value}\n")
    clean = figures["violations_online"] == 0
    return (
        0 if clean and figures["offline_conflicts"] == figures["offline_conflicts_flagged"] else 1
    )
