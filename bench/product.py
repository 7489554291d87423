"""Adapters from the benchmark to the product's real code paths (local reads and writes).

Each function drives one product operation through the services the UI calls (search, open
customer, record outcome) and returns timings. A product part that does not exist yet raises
:class:`bench.context.NotReady` naming it; nothing is ever simulated. The network and Qt
adapters live in :mod:`bench.product_net` and :mod:`bench.product_ui`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.client import Client, client_cache
from bench.context import Ctx, product
from bench.measure import Stat, repeat
from bench.product_app import client_rss, time_cold_start
from bench.product_net import (
    LOAD_CLIENTS,
    PACE_S,
    claim_latency,
    contact_load,
    first_sync_scope,
    full_first_sync,
    propagation_samples,
    push_rate,
)
from bench.product_ui import (
    time_list_first_screen,
    time_open_painted,
    time_search_painted,
)

__all__ = [
    "LOAD_CLIENTS",
    "PACE_S",
    "cache_sample",
    "claim_latency",
    "client_cache",
    "client_rss",
    "contact_load",
    "empty_results",
    "first_sync_scope",
    "full_first_sync",
    "outcome_draft",
    "propagation_samples",
    "push_rate",
    "scaling_figures",
    "time_cold_start",
    "time_list_first_screen",
    "time_open_customer",
    "time_open_painted",
    "time_record_outcome",
    "time_search_painted",
    "time_store_search",
]


def cache_sample(ctx: Ctx, cache: Client, k: int = 500) -> list[tuple[str, str, str]]:
    """``k`` random (customer_id, msisdn, name) of the product cache (sampled by raw SQL)."""
    key = f"sample-{cache.path}"
    if key not in ctx.cache:
        with cache.services.db.reader() as conn:
            ids = [r[0] for r in conn.execute("SELECT customer_id FROM customer").fetchall()]
            rng = random.Random(ctx.seed)
            picked = [ids[rng.randrange(len(ids))] for _ in range(k)]
            sql = "SELECT customer_id, msisdn, name FROM customer WHERE customer_id = ?"
            rows = [conn.execute(sql, (cid,)).fetchone() for cid in picked]
        ctx.cache[key] = [tuple(r) for r in rows]
    return ctx.cache[key]  # type: ignore[no-any-return]


def time_store_search(ctx: Ctx, cache: Client, inputs: list[str]) -> Stat:
    """``SearchService.search`` (count + first window), what search-as-you-type calls."""
    search = cache.services.search
    return repeat(lambda i: search.search(inputs[i % len(inputs)]), ctx.reps)


def empty_results(cache: Client, inputs: list[str]) -> int:
    """How many searches for names that exist in the cache return no hit."""
    search = cache.services.search
    return sum(1 for text in inputs if not search.search(text).first)


def time_open_customer(ctx: Ctx, cache: Client, ids: list[str]) -> Stat:
    """``CustomerService.open``: view, contacts, holdings, recommendations, eligibility."""
    customers = cache.services.customers
    return repeat(lambda i: customers.open(ids[i % len(ids)]), ctx.reps)


def outcome_draft(customer_id: str, channel: Any = None) -> Any:
    """An outcome as the form would fill it (reached, no offer pitched)."""
    with product("agentdesk.services.dto.OutcomeDraft"):
        from agentdesk.domain import Channel, ResultCode
        from agentdesk.services.dto import OutcomeDraft
    now = datetime.now(UTC)
    return OutcomeDraft(
        customer_id=customer_id, channel=channel or Channel.INBOUND_CALL,
        result_code=ResultCode.REACHED_NO_OFFER,
        started_at=now - timedelta(minutes=3), ended_at=now, note="客户咨询套餐资费",
    )  # fmt: skip


def time_record_outcome(ctx: Ctx, cache: Client, ids: list[str]) -> Stat:
    """``OutcomeService.record``: contact + outbox row, one durable transaction."""
    outcomes = cache.services.outcomes
    drafts = [outcome_draft(cid) for cid in ids]
    return repeat(lambda i: outcomes.record(drafts[i % len(drafts)]), ctx.reps)


def scaling_figures(ctx: Ctx, size: int) -> dict[str, float]:
    """Medians at one size: search and open (seconds), push (contacts/s), pull (seconds)."""
    from bench.b_search import phone_inputs

    cache = client_cache(ctx, size)
    sample = cache_sample(ctx, cache, 200)
    reps = 100
    search = repeat(lambda i: cache.services.search.search(phone_inputs(ctx, sample)[i % 200]),
                    reps)  # fmt: skip
    opened = repeat(lambda i: cache.services.customers.open(sample[i % 200][0]), reps)
    figures = {"search": search.median, "open": opened.median}
    from bench.client import cached_client_db

    _path, info = cached_client_db(ctx, size)
    figures["pull"] = float(info["seconds"])
    rate, _p95 = push_rate(ctx, 2_000, size=size)
    figures["push"] = rate
    return figures
