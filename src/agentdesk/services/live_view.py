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
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from agentdesk.domain import (
    Campaign,
    Claim,
    Contact,
    CustomerView,
    Holding,
    MarketingOrder,
    TargetListEntry,
)
from agentdesk.protocol import CustomerList, from_row
from agentdesk.store.customer_repo import RECENT_CONTACTS, CustomerBundle, newest_months
from agentdesk.sync import ApiClient, Forbidden, NotFound, SyncError

__all__ = [
    "ASK_TIMEOUT_S",
    "QUIET_AFTER_FAILURE_S",
    "LiveService",
    "bundle_from_view",
    "summary_rows",
]

T = TypeVar("T")

ASK_TIMEOUT_S = 2.0
"""Seconds a search or a view may take before the cache answers instead: the user is typing
or a customer is on the line (the sync's own requests keep the client's 30 s)."""

QUIET_AFTER_FAILURE_S = 30.0
"""After the service failed to answer, it is not asked again for this long, so a dead or
hanging connection does not queue every pause in typing behind a timeout."""


class LiveService:
    """The service as search and the customer view ask it while the cache fills.

    Each question has :data:`ASK_TIMEOUT_S`; when one fails (offline, busy, signed out, too
    slow) the next :data:`QUIET_AFTER_FAILURE_S` seconds go straight to the cache. Shared by
    the reader threads.

    Args:
        api: the session's logged-in client.
        clock: monotonic seconds (tests move it).
    """

    def __init__(self, api: ApiClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._api = api
        self._clock = clock
        self._quiet_until = 0.0
        self._lock = threading.Lock()

    def search(self, *, q: str | None = None, msisdn: str | None = None) -> CustomerList | None:
        """``GET /v1/customers``; None when the service does not answer now."""
        return self._ask(lambda: self._api.search(q=q, msisdn=msisdn, timeout=ASK_TIMEOUT_S))

    def view(self, customer_id: str) -> dict[str, Any] | None:
        """``GET /v1/customers/{id}``; None when the service does not answer now.

        Raises:
            NotFound, Forbidden: no such customer in the user's scope.
        """
        return self._ask(lambda: self._api.customer(customer_id, timeout=ASK_TIMEOUT_S))

    def _ask(self, call: Callable[[], T]) -> T | None:
        if self._clock() < self._quiet_until:
            return None
        try:
            return call()
        except (NotFound, Forbidden):
            raise
        except SyncError:
            with self._lock:
                self._quiet_until = self._clock() + QUIET_AFTER_FAILURE_S
            return None


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
    usage = newest_months(data.get("usage") or ())
    view = dataclasses.replace(
        from_row({**data, "holdings": [], "usage": []}, CustomerView),
        holdings=tuple(from_row(h, Holding) for h in data.get("holdings") or ()),
        usage=tuple(usage),
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
        usage_as_of=usage[0].month if usage else None,
    )


def summary_rows(found: CustomerList) -> list[tuple[str, str, str, str, str, str, str]]:
    """The hits of ``GET /v1/customers?…`` as (customer_id, name, msisdn, id_number,
    region_code, segment_id, vip_level), in the service's order (a service before
    ``vip_level`` was listed: ``""``)."""
    return [
        (
            str(item.get("customer_id") or ""),
            str(item.get("name") or ""),
            str(item.get("msisdn") or ""),
            str(item.get("id_number") or ""),
            str(item.get("region_code") or ""),
            str(item.get("segment_id") or ""),
            str(item.get("vip_level") or ""),
        )
        for item in found.items
    ]
