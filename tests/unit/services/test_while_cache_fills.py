"""While a first sync fills the cache, search, screen-pop and the customer view ask the service.

What the user notices: a call that comes in during the first sync (minutes for a call-centre
region) still finds and opens the customer, with the same masking and the same policy check as
from the cache; this device's own unsent outcomes are on the screen; and when the service cannot
be reached either, the app says the customer may not have arrived yet instead of "no customer".
The service is the real one, in process, on its own SQLite store (tests/ui/central.py).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from agentdesk.domain import Channel, ResultCode
from agentdesk.protocol import CustomerList
from agentdesk.services import Services, build_services
from agentdesk.services.auth import LoginResult
from agentdesk.services.customer import CacheFilling, CustomerNotFound, CustomerService
from agentdesk.services.dto import OutcomeDraft, SearchHit
from agentdesk.services.live_view import QUIET_AFTER_FAILURE_S, LiveService, summary_rows
from agentdesk.services.search import SearchService
from agentdesk.sync import ApiClient
from tests.ui.central import PASSWORD, Central
from tests.ui.desktop import desktop_auth


@pytest.fixture
def login(tmp_path: Path, central: Central) -> Iterator[LoginResult]:
    """agent1 logged in online, the cache created and nothing pulled yet."""
    result = desktop_auth(tmp_path, "dev-1", api=central.api).login("agent1", PASSWORD)
    yield result
    if result.api is not None:
        result.api.close()
    result.db.close()


@pytest.fixture
def services(login: LoginResult) -> Services:
    return build_services(login)


def _unreachable(tries: list[str] | None = None) -> ApiClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        if tries is not None:
            tries.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    return ApiClient("http://127.0.0.1:9", transport=httpx.MockTransport(refuse))


def _first_sync(services: Services) -> None:
    engine = services.sync.engine
    assert engine is not None
    report = engine.run_once()
    assert report.ok, report.error


def _rows(hits: Iterable[SearchHit]) -> set[tuple[str, str, str, str]]:
    return {(h.customer_id, h.name, h.phone, h.id_number) for h in hits}


def test_a_name_search_before_the_first_sync_is_answered_by_the_service(
    services: Services,
) -> None:
    page = services.search.search("王")
    assert page.from_service
    assert page.filling
    assert {h.name for h in page.first} == {"王小明", "王小红", "王秀英"}
    _first_sync(services)
    after = services.search.search("王")
    assert not after.from_service
    assert not after.filling
    assert _rows(after.first) == _rows(page.first)  # same customers, masked the same way


@pytest.mark.parametrize("typed", ["138-0000-0005", "13800000005", "C00000005"])
def test_phone_and_customer_id_searches_find_the_customer_before_it_arrives(
    services: Services, typed: str
) -> None:
    page = services.search.search(typed)
    assert page.from_service
    assert [h.customer_id for h in page.first] == ["C00000005"]
    assert page.first[0].name == "陈志强"


def test_a_customer_outside_the_scope_is_not_found_by_the_service(services: Services) -> None:
    page = services.search.search("C00000099")  # unknown to the service: the cache's prefix
    assert page.first == ()
    with pytest.raises(CustomerNotFound) as missing:
        services.customers.open("C00000099")
    assert not missing.value.filling
    assert "not among your customers" in missing.value.sentence


def test_screen_pop_before_the_first_sync_finds_the_number(services: Services) -> None:
    found = services.search.screen_pop("13800000002")
    assert [h.customer_id for h in found.hits] == ["C00000002"]
    assert not found.unsure


def test_opening_before_the_first_sync_shows_the_service_view_then_the_cache(
    services: Services,
) -> None:
    screen = services.customers.open("C00000002")
    assert screen.freshness.live
    assert screen.view.attributes.name == "王小红"
    assert [line.campaign.campaign_id for line in screen.campaigns] == ["K0001"]
    assert screen.verdict.outcome in ("allowed", "deferred", "blocked")
    _first_sync(services)
    cached = services.customers.open("C00000002")
    assert not cached.freshness.live
    assert cached.freshness.synced_at is not None
    assert cached.view.attributes == screen.view.attributes
    assert cached.verdict == screen.verdict  # the same policy over the same history


def test_an_outcome_saved_before_the_first_sync_is_on_the_live_view(services: Services) -> None:
    started = datetime.now(UTC) - timedelta(minutes=3)
    saved = services.outcomes.record(
        OutcomeDraft(
            customer_id="C00000003",
            channel=Channel.INBOUND_CALL,
            started_at=started,
            ended_at=started + timedelta(minutes=2),
            result_code=ResultCode.REACHED_NO_OFFER,
        )
    )
    screen = services.customers.open("C00000003")
    assert screen.freshness.live
    assert [c.contact_id for c in screen.contacts] == [saved.contact_id]
    _first_sync(services)  # pushed, then pulled back: one contact, no longer unsent
    cached = services.customers.open("C00000003")
    assert [c.contact_id for c in cached.contacts] == [saved.contact_id]


def test_without_the_service_the_cache_answers_and_says_it_is_still_filling(
    login: LoginResult,
) -> None:
    search = SearchService(login.db, login.session.role, live=LiveService(_unreachable()))
    page = search.search("王")
    assert page.filling
    assert not page.from_service
    assert page.first == ()
    pop = search.screen_pop("13800000002")
    assert pop.hits == []
    assert pop.unsure
    customers = CustomerService(login.db, login.session, None, live=LiveService(_unreachable()))
    with pytest.raises(CustomerNotFound) as missing:
        customers.open("C00000002")
    assert missing.value.filling
    assert "first sync is still running" in missing.value.sentence


def test_the_worker_process_copy_hands_the_fetch_back_and_opens_the_fetched_view(
    login: LoginResult, services: Services
) -> None:
    """The GUI opens customers in a worker process, which has no connection: it says the cache
    is filling, the GUI fetches the view on a thread, and the process builds the screen."""
    offline_copy = CustomerService(login.db, login.session, None)
    with pytest.raises(CacheFilling):
        offline_copy.open("C00000004", live_first=True)
    view = services.customers.fetch_view("C00000004")
    assert view is not None
    screen = offline_copy.open("C00000004", view=view)
    assert screen.freshness.live
    assert screen.view.attributes.name == "张丽华"
    assert pickle.loads(pickle.dumps(CustomerNotFound("C1", filling=True))).filling


@pytest.mark.parametrize("typed", ["1X", "C000"])
def test_what_the_service_cannot_match_is_searched_in_the_cache(
    services: Services, typed: str
) -> None:
    """The end of an ID number and the start of a customer number: the service matches only
    whole ones, so the cache answers (and says it is still filling)."""
    page = services.search.search(typed)
    assert not page.from_service
    assert page.filling


def test_after_a_failure_the_service_is_left_alone_for_a_while() -> None:
    """A dead connection costs one timeout, not one per pause in typing."""
    tries: list[str] = []
    now = [1000.0]
    live = LiveService(_unreachable(tries), clock=lambda: now[0])
    assert live.search(q="王") is None
    assert live.view("C00000001") is None
    assert len(tries) == 1
    now[0] += QUIET_AFTER_FAILURE_S + 1
    assert live.search(msisdn="13800000001") is None
    assert len(tries) == 2


def test_service_hits_keep_the_vip_level_and_an_older_service_has_none() -> None:
    found = CustomerList(
        items=[
            {"customer_id": "C1", "name": "王一", "msisdn": "13800000001", "vip_level": "gold"},
            {"customer_id": "C2", "name": "王二", "msisdn": "13800000002"},  # an older service
        ],
        total=2,
    )
    assert [row[-1] for row in summary_rows(found)] == ["gold", ""]
