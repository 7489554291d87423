"""Customer search on the local cache: works offline, masks PII by role.

Search-as-you-type calls :meth:`SearchService.search` for every pause in typing (the UI
cancels older requests): it reads only the first window of rows, so the first screen never
waits for a count. When there are more rows than that window, the UI asks
:meth:`SearchService.count` in the background (abandoned when the user types on) and grows the
list when it answers; the list then pages with :meth:`SearchService.window`.

Each row of a window is one read of the customer table, where a cached customer (with its
~2 KB JSON row) fills a page of its own: rows found through the phone index lie on pages all
over the file, so the first window's size is what a search costs when those pages are not in
memory. It is :data:`FIRST_WINDOW` rows, two screens of the list; whether more rows match is
asked of the index alone (:func:`agentdesk.store.search.count_matches` with that cap), not by
reading one row more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from agentdesk.domain import Role
from agentdesk.protocol import CustomerList
from agentdesk.services.dto import SearchHit, SearchPage
from agentdesk.services.live_view import LiveService, summary_rows
from agentdesk.services.masking import mask_id_number, mask_phone, show_id_number, show_phone
from agentdesk.store import CacheDB
from agentdesk.store import search as store_search
from agentdesk.store.apply import cache_filling
from agentdesk.sync import Forbidden, NotFound

__all__ = ["FIRST_WINDOW", "MatchCount", "PopHits", "SearchService"]

MatchCount = store_search.MatchCount

FIRST_WINDOW = 50
"""Rows of a result read before its first screen: two screens of the list (24 px rows)."""


@dataclass(frozen=True, slots=True)
class PopHits:
    """The customers of a screen-popped number; ``unsure``: a first sync was still filling the
    cache and the service could not be asked, so a customer may not have arrived yet."""

    hits: list[SearchHit]
    unsure: bool = False


class SearchService:
    """Searches the user's cache.

    Args:
        db: the user's cache.
        role: decides whether phone and ID numbers are masked.
        count_cap: stop counting matches after this many ("1000+"); None counts them all.
        live: the service, asked instead of the cache while a first sync fills it (None
            offline; docs/sync.md, "While the cache fills").
    """

    def __init__(
        self,
        db: CacheDB,
        role: Role,
        count_cap: int | None = store_search.DEFAULT_COUNT_CAP,
        live: LiveService | None = None,
    ) -> None:
        self._db = db
        self._role = role
        self._cap = count_cap
        self._live = live

    def search(self, text: str) -> SearchPage:
        """The first window of hits for ``text``; counted only when the window holds them all.

        When the window is full, whether more rows match is asked with a count capped at the
        window (of a phone-number search it reads only the index): when they do, ``counted``
        is False and :meth:`count` tells how many there are.
        """
        started = time.perf_counter()
        query = store_search.parse_query(text)
        filling: bool | None = None
        if self._live is not None:  # only an online session has a service to ask
            with self._db.reader() as conn:
                filling = cache_filling(conn)
            live = self._ask_service(query) if filling else None
            if live is not None:
                hits, capped = live
                return SearchPage(
                    query=text,
                    total=len(hits),
                    capped=capped,
                    first=tuple(hits),
                    elapsed_ms=(time.perf_counter() - started) * 1000,
                    filling=True,
                    from_service=True,
                )
        with self._db.reader() as conn:
            if filling is None:
                filling = cache_filling(conn)
            rows = store_search.fetch_rows(conn, query, 0, FIRST_WINDOW)
            more = (
                len(rows) == FIRST_WINDOW
                and store_search.count_matches(conn, query, FIRST_WINDOW).capped
            )
        counted = not more
        first = tuple(self._hits(rows))
        elapsed = (time.perf_counter() - started) * 1000
        return SearchPage(
            query=text,
            total=len(first),
            capped=False,
            first=first,
            elapsed_ms=elapsed,
            counted=counted,
            filling=filling,
        )

    def count(self, text: str, cancel: threading.Event | None = None) -> MatchCount:
        """How many customers match ``text``, up to this service's cap ("1000+").

        Raises:
            CountInterrupted: ``cancel`` was set (a newer search started) before the end.
        """
        query = store_search.parse_query(text)
        with self._db.reader() as conn:
            return store_search.count_matches(conn, query, self._cap, cancel=cancel)

    def window(self, text: str, start: int, size: int) -> list[SearchHit]:
        """Hits ``start`` … ``start + size - 1`` of the result for ``text``."""
        with self._db.reader() as conn:
            rows = store_search.fetch_rows(conn, text, start, size)
        return self._hits(rows)

    def by_msisdn(self, msisdn: str) -> list[SearchHit]:
        """Customers whose number is exactly ``msisdn`` (screen-pop: 0, 1 or several); asked
        of the service while a first sync fills the cache (of the cache when it cannot
        answer)."""
        return self.screen_pop(msisdn).hits

    def screen_pop(self, msisdn: str) -> PopHits:
        """:meth:`by_msisdn`, and whether finding none may only mean "not arrived yet"."""
        digits = "".join(ch for ch in msisdn if ch.isdigit())
        if not digits:
            return PopHits([])
        with self._db.reader() as conn:
            filling = cache_filling(conn)
        if filling and self._live is not None:
            found = self._live.search(msisdn=digits)
            if found is not None:
                return PopHits(self._summary_hits(found))
        with self._db.reader() as conn:
            hits = store_search.search(conn, digits, limit=50)
        return PopHits([self._hit(h) for h in hits if h.msisdn == digits], unsure=filling)

    def _ask_service(self, query: store_search.SearchQuery) -> tuple[list[SearchHit], bool] | None:
        """The service's hits for ``query`` and whether it found more than it sent; None when
        it does not answer now or cannot search that way: the service matches the start of a
        phone number, ID number or name and a whole ID or customer number, so the end of an ID
        number, pinyin initials and the whole list stay with the cache (as does a customer
        number the service does not know: the cache finds ids by their start)."""
        assert self._live is not None
        compact = "".join(query.text.split()).replace("-", "")
        if query.kind == "customer_id":
            try:
                view = self._live.view(compact.upper())
            except (NotFound, Forbidden):
                return None
            return None if view is None else ([self._view_hit(view)], False)
        if query.kind == "id" and len(compact) < 18:
            return None
        if query.kind not in ("digits", "id", "name"):
            return None
        found = self._live.search(q=compact.upper() if query.kind == "id" else compact)
        return (
            None if found is None else (self._summary_hits(found), found.total > len(found.items))
        )

    def _view_hit(self, view: dict[str, object]) -> SearchHit:
        """A unified view as a hit (a customer id typed while the cache fills)."""
        attrs = view.get("attributes")
        get = attrs.get if isinstance(attrs, dict) else {}.get
        cid = str(get("customer_id") or view.get("customer_id") or "")
        fields = ("name", "msisdn", "id_number", "region_code", "segment_id", "vip_level")
        return self._listed([(cid, *(str(get(f) or "") for f in fields))])[0]

    def _summary_hits(self, found: CustomerList) -> list[SearchHit]:
        return self._listed(summary_rows(found))

    def _listed(self, rows: Iterable[Sequence[str]]) -> list[SearchHit]:
        """(customer_id, name, msisdn, id_number, region_code, segment_id, vip_level) rows as
        the list shows them."""
        phone, id_number = self._maskers()
        return [
            SearchHit(cid, name, phone(msisdn), id_number(id_no), segment, region, _is_vip(vip))
            for cid, name, msisdn, id_no, region, segment, vip in rows
        ]

    def _hits(self, rows: list[store_search.HitRow]) -> list[SearchHit]:
        """The rows as the list shows them (one object per row; the role is asked once)."""
        phone, id_number = self._maskers()
        return [
            SearchHit(cid, name, phone(msisdn), id_number(id_no), segment, region, _is_vip(vip))
            for cid, name, msisdn, id_no, region, segment, _tier, vip, _churn in rows
        ]

    def _maskers(self) -> tuple[Callable[[str], str], Callable[[str], str]]:
        """How this role sees phone and ID numbers in a list: as stored, or masked."""
        if self._role.sees_full_pii:
            return _as_is, _as_is
        return mask_phone, mask_id_number

    def _hit(self, hit: store_search.SearchHit) -> SearchHit:
        return SearchHit(
            customer_id=hit.customer_id,
            name=hit.name,
            phone=show_phone(hit.msisdn, self._role),
            id_number=show_id_number(hit.id_number, self._role),
            segment=hit.segment_id,
            region=hit.region_code,
            vip=_is_vip(hit.vip_level),
        )


def _as_is(text: str) -> str:
    """A role that sees full personal data sees the number as stored."""
    return text


def _is_vip(vip_level: str) -> bool:
    """Whether the list marks the customer as a VIP."""
    return bool(vip_level) and vip_level != "none"
