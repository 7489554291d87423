"""The deterministic demo/benchmark data set as a library: ``generate(n, seed)``.

Customers come in chunks of :data:`CHUNK` with their own ``random.Random`` derived from
``(seed, chunk number)``, so the same arguments give the same data byte for byte and chunks can be
generated independently (in parallel). The stdlib generator is the only source of randomness;
the ``anchor`` date (default: today, UTC) is the "now" that ages, contact times and campaign
validity hang on.

:func:`generate_rows` yields wire rows (``to_row`` shapes), the fast path the loader uses;
:func:`generate` yields domain objects for tests and benchmarks that want them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from agentdesk.domain import (
    Campaign,
    Contact,
    CustomerView,
    Holding,
    MarketingOrder,
    Offer,
    TargetListEntry,
    UsageMonth,
)
from agentdesk.protocol import from_row
from agentdesk_sync.seed.activity import (
    Catalog,
    campaigns_by_channel,
    contact_counts,
    make_contacts,
    make_targets,
)
from agentdesk_sync.seed.catalog import campaigns_and_offers
from agentdesk_sync.seed.customers import make_customers
from agentdesk_sync.seed.fast import Draws

__all__ = [
    "CHUNK",
    "ChunkRows",
    "CustomerBundle",
    "anchor_time",
    "catalog",
    "generate",
    "generate_chunk",
    "generate_rows",
]

Row = dict[str, Any]
CHUNK = 5_000


@dataclass(slots=True)
class ChunkRows:
    """The wire rows of one chunk of customers, per entity."""

    customers: list[Row] = field(default_factory=list)
    holdings: list[Row] = field(default_factory=list)
    usage: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    targets: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CustomerBundle:
    """One customer with everything that hangs off them, as domain objects."""

    view: CustomerView
    holdings: list[Holding]
    usage: list[UsageMonth]
    contacts: list[Contact]
    targets: list[TargetListEntry]
    orders: list[MarketingOrder]


def anchor_time(anchor: date) -> datetime:
    """Midnight UTC of the anchor day: the generator's "now"."""
    return datetime.combine(anchor, time(0), UTC)


def catalog(anchor: date) -> tuple[list[Campaign], list[Offer]]:
    """The campaigns and offers of the data set (independent of the seed)."""
    return campaigns_and_offers(anchor_time(anchor))


def _catalog_by_campaign(anchor: date) -> Catalog:
    campaigns, offers = catalog(anchor)
    by_campaign: dict[str, list[Offer]] = {c.campaign_id: [] for c in campaigns}
    for offer in offers:
        by_campaign[offer.campaign_id].append(offer)
    return campaigns, by_campaign


def generate_chunk(seed: int, chunk: int, n: int, anchor: date) -> ChunkRows:
    """Chunk number ``chunk`` (0-based) of a data set of ``n`` customers, as wire rows.

    The chunk's draws come in a fixed order, the fixed-size blocks (made for a whole chunk)
    first and the contacts (one block per contact) last, so customer ``i`` is the same in every
    data set of at least ``i`` customers with the same seed.
    """
    draws = Draws(random.Random(seed * 1_000_003 + chunk))
    cat = _catalog_by_campaign(anchor)
    anchor_s = int(anchor_time(anchor).timestamp())
    first = chunk * CHUNK + 1
    m = min(n, (chunk + 1) * CHUNK) - first + 1
    people = make_customers(draws, first, m, CHUNK, anchor)
    counts = contact_counts(draws, m, CHUNK)
    targets, orders = make_targets(draws, people.attrs, CHUNK, cat, anchor_s)
    contacts = make_contacts(draws, counts, people.attrs, cat, anchor_s, campaigns_by_channel(cat))
    return ChunkRows(
        customers=people.customers,
        holdings=people.holdings,
        usage=people.usage,
        contacts=contacts,
        targets=targets,
        orders=orders,
    )


def chunk_count(n: int) -> int:
    """How many chunks a data set of ``n`` customers has."""
    return (n + CHUNK - 1) // CHUNK


def generate_rows(n: int, seed: int, anchor: date | None = None) -> Iterator[ChunkRows]:
    """The data set as wire rows, one :class:`ChunkRows` per chunk, in customer-id order."""
    day = anchor or datetime.now(UTC).date()
    for chunk in range(chunk_count(n)):
        yield generate_chunk(seed, chunk, n, day)


def _bundles(rows: ChunkRows) -> Iterator[CustomerBundle]:
    def by_customer(items: list[Row]) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {}
        for item in items:
            grouped.setdefault(item["customer_id"], []).append(item)
        return grouped

    groups = [by_customer(getattr(rows, name)) for name in
              ("holdings", "usage", "contacts", "targets", "orders")]  # fmt: skip
    kinds = (Holding, UsageMonth, Contact, TargetListEntry, MarketingOrder)
    for row in rows.customers:
        cid = row["attributes"]["customer_id"]
        parts: list[list[Any]] = [
            [from_row(r, k) for r in g.get(cid, [])] for g, k in zip(groups, kinds, strict=True)
        ]
        yield CustomerBundle(from_row(row, CustomerView), *parts)  # type: ignore[arg-type]


def generate(n: int, seed: int, anchor: date | None = None) -> Iterator[CustomerBundle]:
    """Every customer of the data set as domain objects, ``C00000001`` first.

    Args:
        n: Number of customers.
        seed: Seed of the stdlib random generator.
        anchor: The data set's "today" (default: today in UTC).

    Yields:
        One :class:`CustomerBundle` per customer.
    """
    for rows in generate_rows(n, seed, anchor):
        yield from _bundles(rows)
