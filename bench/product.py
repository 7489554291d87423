"""Adapters from the benchmark to the product's real code paths.

Each function drives one product operation (store search, open customer, record outcome,
sync, service calls, app start) and returns timings. A product part that does not exist yet
raises :class:`bench.context.NotReady` naming it; nothing is ever simulated.
"""

from __future__ import annotations

from typing import Any

from bench.context import Ctx, NotReady
from bench.measure import Stat

__all__ = [
    "LOAD_CLIENTS",
    "cache_sample",
    "claim_latency",
    "client_cache",
    "client_rss",
    "contact_load",
    "empty_results",
    "first_sync_scope",
    "full_first_sync_seconds",
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

LOAD_CLIENTS = 8


def client_cache(ctx: Ctx) -> Any:
    """The client cache of the run's size, filled by the product's first sync."""
    raise NotReady("client cache (store SyncStore + seed)")


def cache_sample(ctx: Ctx, cache: Any) -> list[tuple[str, str, str]]:
    """Random (customer_id, msisdn, name) of the product cache."""
    raise NotReady("client cache")


def time_store_search(ctx: Ctx, cache: Any, inputs: list[str]) -> Stat:
    """Store search for each input."""
    raise NotReady("agentdesk.store search")


def empty_results(cache: Any, inputs: list[str]) -> int:
    """How many searches for existing names return nothing."""
    raise NotReady("agentdesk.store search")


def time_search_painted(ctx: Ctx, cache: Any, inputs: list[str]) -> Stat:
    """Typed text → painted list in the real search panel."""
    raise NotReady("agentdesk.ui search panel")


def time_open_customer(ctx: Ctx, cache: Any, ids: list[str]) -> Stat:
    """Services' open-customer use case."""
    raise NotReady("agentdesk.services open customer")


def time_open_painted(ctx: Ctx, cache: Any, ids: list[str]) -> Stat:
    """Open customer → painted customer view."""
    raise NotReady("agentdesk.ui customer view")


def time_record_outcome(ctx: Ctx, cache: Any, ids: list[str]) -> Stat:
    """Store record_outcome, durable."""
    raise NotReady("agentdesk.store record_outcome")


def time_cold_start(ctx: Ctx, cache: Any) -> Stat:
    """Fresh process → main window shown."""
    raise NotReady("agentdesk.app")


def time_list_first_screen(ctx: Ctx, cache: Any, n: int) -> Stat:
    """UI list model over every customer, first screen painted."""
    raise NotReady("agentdesk.ui list model")


def client_rss(ctx: Ctx, cache: Any) -> tuple[float, float]:
    """RSS after start, and after opening 1 000 customers."""
    raise NotReady("agentdesk.app")


def push_rate(ctx: Ctx, count: int) -> tuple[float, float]:
    """Contacts/s pushed through the SyncEngine, and p95 per batch."""
    raise NotReady("agentdesk.sync SyncEngine + store")


def first_sync_scope(ctx: Ctx) -> tuple[float, int]:
    """First sync of a 100 k scope: seconds and rows pulled."""
    raise NotReady("agentdesk.sync SyncEngine + store + seed")


def full_first_sync_seconds(ctx: Ctx) -> float | None:
    """Seconds of the first sync of the whole data set (when the cache was built)."""
    return None


def propagation_samples(ctx: Ctx, n: int) -> list[float]:
    """Seconds from A's record to B's cache, n times."""
    raise NotReady("agentdesk.sync SSE + engine")


def claim_latency(ctx: Ctx, backend: str, agents: int, per_agent: int) -> Stat:
    """Claim latencies under ``agents`` concurrent clients."""
    raise NotReady("service claims")


def contact_load(ctx: Ctx, backend: str, seconds: float) -> tuple[float, float, float]:
    """(tx/s, median latency, p99 latency) of single-contact pushes."""
    raise NotReady("service push")


def scaling_figures(ctx: Ctx, size: int) -> dict[str, float]:
    """Medians of search, open (seconds), push (contacts/s) and pull (seconds) at one size."""
    raise NotReady("store + sync")
