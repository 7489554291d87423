"""ApiClient: typed answers and errors mapped by kind, with the network faked at the transport."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from agentdesk.protocol import PushItem
from agentdesk.sync import (
    ApiClient,
    AuthExpired,
    Claimed,
    Forbidden,
    LeaseLost,
    NotFound,
    Offline,
    PolicyBlocked,
    ProtocolError,
    ResetRequired,
    ServerBusy,
)

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, token: str | None = "tok") -> ApiClient:
    return ApiClient("http://svc", token=token, transport=httpx.MockTransport(handler))


def _error(status: int, code: str, details: dict[str, object] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": code.replace("_", " "), "details": details or {}}}
    return httpx.Response(status, json=body)


def test_login_keeps_the_token_for_later_calls() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        if request.url.path == "/v1/auth/login":
            assert json.loads(request.content)["device_id"] == "dev-1"
            user = {"id": "u1", "name": "U", "role": "field", "channels": [], "regions": []}
            return httpx.Response(200, json={"token": "T1", "expires_at": "x", "user": user})
        return httpx.Response(200, json={"items": [], "total": 0})

    api = _client(handler, token=None)
    answer = api.login("u1", "pw", "dev-1")
    api.search(q="张")
    assert answer.user.role == "field"
    assert seen == [None, "Bearer T1"]


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (_error(401, "unauthorized"), AuthExpired),
        (_error(403, "forbidden"), Forbidden),
        (_error(404, "not_found"), NotFound),
        (_error(409, "reset_required"), ResetRequired),
        (_error(409, "lease_lost"), LeaseLost),
        (_error(422, "invalid_request"), ProtocolError),
        (_error(400, "invalid_cursor"), ProtocolError),
        (httpx.Response(500, text="boom"), ServerBusy),
    ],
)
def test_error_answers_map_to_kinds(response: httpx.Response, error: type[Exception]) -> None:
    api = _client(lambda _request: response)
    with pytest.raises(error):
        api.pull("")


def test_claimed_carries_the_holder() -> None:
    holder = {"user_id": "li", "channel": "store", "lease_until": "2026-01-01T00:00:00Z"}
    api = _client(lambda _r: _error(409, "claimed", {"holder": holder}))
    with pytest.raises(Claimed) as info:
        api.acquire_claim("C00000001", "outbound_call")
    assert info.value.holder["user_id"] == "li"


def test_policy_blocked_carries_the_reasons() -> None:
    reasons = [{"code": "frequency_cap", "rule_id": "global_cap"}]
    api = _client(lambda _r: _error(409, "policy_blocked", {"reasons": reasons}))
    with pytest.raises(PolicyBlocked) as info:
        api.acquire_claim("C00000001", "outbound_call")
    assert info.value.reasons[0]["code"] == "frequency_cap"


def test_busy_server_says_when_to_come_back() -> None:
    api = _client(lambda _r: httpx.Response(503, headers={"Retry-After": "7"}, json={}))
    with pytest.raises(ServerBusy) as info:
        api.health()
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
)
def test_network_failures_are_offline(exc: Exception) -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(Offline):
        _client(handler).health()


def test_an_answer_of_the_wrong_shape_is_a_bug() -> None:
    api = _client(lambda _r: httpx.Response(200, json={"status": "ok"}))
    with pytest.raises(ProtocolError):
        api.health()


def test_push_sends_items_in_order_with_an_idempotency_key() -> None:
    captured: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        captured["body"] = json.loads(request.content)
        captured["key"] = request.headers.get("Idempotency-Key")
        results = [
            {"id": i["id"], "status": "applied", "server_seq": n + 10}
            for n, i in enumerate(captured["body"]["items"])
        ]  # type: ignore[index]
        return httpx.Response(200, json={"results": results, "write_checkpoint": 11})

    items = [PushItem(id=f"id-{n}", seq=n, kind="contact", schema=1, payload={}) for n in (1, 2)]
    answer = _client(handler).push("dev", items)
    body = captured["body"]
    assert [i["seq"] for i in body["items"]] == [1, 2]  # type: ignore[index]
    assert captured["key"]
    assert answer.write_checkpoint == 11
    assert [r.server_seq for r in answer.results] == [10, 11]


def test_release_claim_accepts_no_content() -> None:
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(f"{request.method} {request.url.path}")
        return httpx.Response(204)

    _client(handler).release_claim("cl-1")
    assert methods == ["DELETE /v1/claims/cl-1"]


def test_event_stream_yields_change_events() -> None:
    stream = b': ping\n\nevent: change\ndata: {"seq": 5}\n\nevent: change\ndata: {"seq": 6}\n\n'

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Accept"] == "text/event-stream"
        return httpx.Response(200, content=stream, headers={"Content-Type": "text/event-stream"})

    with _client(handler).events() as events:
        got = [(e.event, json.loads(e.data)["seq"]) for e in events if e.event != "heartbeat"]
    assert got == [("change", 5), ("change", 6)]


def test_event_stream_refused_is_an_error_by_kind() -> None:
    with pytest.raises(AuthExpired), _client(lambda _r: _error(401, "unauthorized")).events():
        pass


def test_a_search_with_its_own_timeout_gives_up_on_a_silent_service() -> None:
    """Search while the cache fills waits seconds, not the sync's 30 s, on a service that
    accepted the connection and never answers (a real socket that stays silent)."""
    import socket
    import threading

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        api = ApiClient(f"http://127.0.0.1:{port}", timeout=httpx.Timeout(60.0))
        errors: list[BaseException] = []

        def ask() -> None:
            try:
                api.search(q="王", timeout=0.3)
            except Offline as exc:
                errors.append(exc)

        asking = threading.Thread(target=ask)
        asking.start()
        asking.join(20)  # far beyond 0.3 s, far below the client's 60 s
        alive = asking.is_alive()
        api.close()
    assert not alive
    assert len(errors) == 1
    assert errors[0].details["timeout"] is True
