"""Claims from the client: local deadline from the send time, renewal, release, visit lists."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from agentdesk.sync import ApiClient, ClaimManager, ClaimRenewer, HeldClaim, LeaseLost
from agentdesk.sync.claims import MAX_PRECLAIM_CUSTOMERS


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _granted(ttl_s: int, fence: int = 3) -> httpx.Response:
    body = {
        "claim_id": "cl-1",
        "fence": fence,
        "lease_until": f"2026-01-01T10:{ttl_s // 60:02d}:00Z",
        "server_now": "2026-01-01T10:00:00Z",
    }
    return httpx.Response(201, json=body)


def _manager(handler: object, clock: FakeClock) -> ClaimManager:
    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return ClaimManager(api, clock=clock)


def test_deadline_counts_from_the_send_minus_ten_percent() -> None:
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        clock.now += 5.0  # the round trip takes 5 s: it must shorten our lease, not extend it
        return _granted(900)

    claim = _manager(handler, clock).acquire("C00000001", "outbound_call", ttl_s=900)
    assert claim.deadline == pytest.approx(1000.0 + 810.0)
    assert claim.valid_at(1000.0 + 809.0)
    assert not claim.valid_at(1000.0 + 811.0)
    assert claim.fence == 3


def test_a_server_capped_lease_shortens_the_local_deadline() -> None:
    clock = FakeClock()
    claim = _manager(lambda _r: _granted(600), clock).acquire("C1", "outbound_call", ttl_s=3600)
    assert claim.deadline == pytest.approx(1000.0 + 540.0)


def test_release_ignores_a_lease_that_is_already_gone() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"error": {"code": "lease_lost", "message": "gone"}})

    claim = HeldClaim("cl-1", "C1", "outbound_call", 3, 900, "x", 0.0)
    _manager(handler, FakeClock()).release(claim)


def test_visit_list_is_limited_and_reports_refusals() -> None:
    asked: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        asked.append(body)
        if body["customer_id"] == "C2":
            holder = {"user_id": "li", "channel": "store", "lease_until": "x"}
            error = {"code": "claimed", "message": "held", "details": {"holder": holder}}
            return httpx.Response(409, json={"error": error})
        return _granted(60)

    manager = _manager(handler, FakeClock())
    result = manager.preclaim_visits(["C1", "C2", "C3"], "field_visit", hours=8)
    assert [c.customer_id for c in result.held] == ["C1", "C3"]
    assert set(result.refused) == {"C2"}
    assert {a["purpose"] for a in asked} == {"visit_plan"}
    assert {a["ttl_s"] for a in asked} == {8 * 3600}
    with pytest.raises(ValueError):
        manager.preclaim_visits(["C"] * (MAX_PRECLAIM_CUSTOMERS + 1), "field_visit", hours=1)
    with pytest.raises(ValueError):
        manager.preclaim_visits(["C1"], "field_visit", hours=13)


def test_renewer_reports_a_lost_lease() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"error": {"code": "lease_lost", "message": "gone"}})

    lost = threading.Event()
    claim = HeldClaim("cl-1", "C1", "outbound_call", 3, ttl_s=0, lease_until="x", deadline=0.0)
    renewer = ClaimRenewer(_manager(handler, FakeClock()), claim, on_lost=lambda _c: lost.set())
    renewer.start()
    assert lost.wait(5)
    renewer.stop()


def test_renew_keeps_the_fence() -> None:
    clock = FakeClock()
    manager = _manager(lambda _r: _granted(900, fence=9), clock)
    claim = manager.acquire("C1", "outbound_call")
    clock.now += 300
    renewed = manager.renew(claim)
    assert renewed.fence == claim.fence
    assert renewed.deadline > claim.deadline


def test_lease_lost_is_raised_by_renew() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"error": {"code": "lease_lost", "message": "gone"}})

    claim = HeldClaim("cl-1", "C1", "outbound_call", 3, 900, "x", 0.0)
    with pytest.raises(LeaseLost):
        _manager(handler, FakeClock()).renew(claim)
