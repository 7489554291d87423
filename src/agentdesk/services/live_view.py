"""The service's answers, in the shapes the cache gives, for while a first sync fills the cache.

Until the first sync (or the snapshot after a reset) is done, the cache lacks the customers that
have not arrived yet, and its lookups by phone, name or customer scan whole tables: its indexes
are rebuilt once at the end (docs/sync.md, "While the cache fills"). Search and the customer
view then ask the service (``GET /v1/customers?…`` and ``GET /v1/customers/{id}``) when it is
reachable, and fall back to the cache when it is not. This module turns those answers into
what :mod:`agentdesk.store.customer_repo` and :mod:`agentdesk.store.search` would have given,
so the screen, the policy check and the recommendations are computed by the same code.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agentdesk.domain import (
    Campaign,
    Claim,
    Contact,
    CustomerView,
    Holding,
    MarketingOrder,
    TargetListEntry,
    UsageMonth,
)
from agentdesk.protocol import CustomerList, from_row
from agentdesk.store.customer_repo import RECENT_CONTACTS, CustomerBundle

__all__ = ["USAGE_MONTHS", "bundle_from_view", "summary_rows"]

USAGE_MONTHS = 12
"""Usage months the view shows (the cache path reads as many)."""


def bundle_from_view(
    data: dict[str, Any],
    unsent: list[Contact],
    unsent_results: dict[str, dict[str, Any]],
) -> CustomerBundle:
    """The customer screen's data from the service's unified view.

    Args:
        data: the answer of ``GET /v1/customers/{id}`` (after a merge: the kept customer's).
        unsent: this device's contacts with the customer that the service does not hold yet
            (:func:`agentdesk.store.customer_repo.unsent_contacts`), newest first.
        unsent_results: push results known for those.

    Returns:
        The bundle, with no ``synced_at`` (nothing of it comes from the cache).
    """
    months = sorted(data.get("usage") or (), key=lambda u: str(u.get("month", "")), reverse=True)
    view = dataclasses.replace(
        from_row({**data, "holdings": [], "usage": []}, CustomerView),
        holdings=tuple(from_row(h, Holding) for h in data.get("holdings") or ()),
        usage=tuple(from_row(u, UsageMonth) for u in months[:USAGE_MONTHS]),
    )
    unsent_ids = {c.contact_id for c in unsent}
    served = [c for c in data.get("recent_contacts") or () if c.get("contact_id") not in unsent_ids]
    contacts = sorted(
        [*unsent, *(from_row(c, Contact) for c in served)],
        key=lambda c: c.started_at,
        reverse=True,
    )[:RECENT_CONTACTS]
    results = {
        str(c["contact_id"]): c["result"]
        for c in served
        if isinstance(c.get("result"), dict) and c.get("contact_id")
    }
    claim = data.get("active_claim")
    if isinstance(claim, dict):
        claim = from_row({"customer_id": view.customer_id, **claim}, Claim)
    return CustomerBundle(
        view=view,
        contacts=tuple(contacts),
        contact_results={**results, **unsent_results},
        unsynced_contact_ids=frozenset(unsent_ids),
        orders=tuple(from_row(o, MarketingOrder) for o in data.get("open_orders") or ()),
        targets=tuple(from_row(t, TargetListEntry) for t in data.get("targets") or ()),
        campaigns=tuple(from_row(c, Campaign) for c in data.get("campaigns") or ()),
        active_claim=claim if isinstance(claim, Claim) else None,
        synced_at=None,
        usage_as_of=months[0].get("month") if months else None,
    )


def summary_rows(found: CustomerList) -> list[tuple[str, str, str, str, str, str]]:
    """The hits of ``GET /v1/customers?…`` as (customer_id, name, msisdn, id_number,
    region_code, segment_id), in the service's order."""
    return [
        (
            str(item.get("customer_id") or ""),
            str(item.get("name") or ""),
            str(item.get("msisdn") or ""),
            str(item.get("id_number") or ""),
            str(item.get("region_code") or ""),
            str(item.get("segment_id") or ""),
        )
        for item in found.items
    ]
