"""``GET /v1/events`` over a real socket: change events in scope, heartbeats."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from .conftest import LiveServer
from .pushing import batch, contact, day_time


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer tok-{user}"}


def _events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """``(kind, data)`` per SSE block: ``("change", json)`` or ``("comment", text)``."""
    event, data = "", ""
    for line in lines:
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            data = line.partition(":")[2].strip()
        elif not line and event:
            yield event, data
            event, data = "", ""


def _next_change(events: Iterator[tuple[str, str]]) -> str:
    for kind, data in events:
        if kind == "change":
            return data
    raise AssertionError("the stream ended")


def test_a_push_in_scope_wakes_the_subscriber(live: LiveServer) -> None:
    with (
        httpx.Client(base_url=live.url, timeout=30) as client,
        client.stream("GET", "/v1/events", headers=_auth("fa1")) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _events(stream.iter_lines())
        assert next(events) == ("comment", "connected")
        other = client.post("/v1/sync/push", json=batch(contact("C00000001")), headers=_auth("cc1"))
        mine = contact("C00000003", channel="store", started=day_time(1))
        pushed = client.post("/v1/sync/push", json=batch(mine), headers=_auth("st1")).json()
        assert other.json()["results"][0]["status"] == "applied"
        data = _next_change(events)
    assert data == f'{{"seq":{pushed["write_checkpoint"]}}}'


def test_the_stream_sends_heartbeats(live: LiveServer) -> None:
    with (
        httpx.Client(base_url=live.url, timeout=30) as client,
        client.stream("GET", "/v1/events", headers=_auth("cc1")) as stream,
    ):
        events = _events(stream.iter_lines())
        assert next(events) == ("comment", "connected")
        assert next(events) == ("comment", "heartbeat")


def test_events_need_a_token(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        resp = client.get("/v1/events")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthorized"


def test_subscribers_are_woken_only_for_their_scope() -> None:
    from agentdesk.domain import Role
    from agentdesk_sync.auth import Principal
    from agentdesk_sync.events import Broadcaster

    hub = Broadcaster()
    agent = hub.subscribe(Principal("cc1", "A", Role.CALL_CENTRE, (), ("440100",)))
    field = hub.subscribe(Principal("fa1", "F", Role.FIELD, (), ()), frozenset({"C00000003"}))
    boss = hub.subscribe(Principal("sup", "S", Role.SUPERVISOR, (), ()))
    hub.publish(5, [("310100", "C00000004")])
    assert (agent.latest, field.latest, boss.latest) == (None, None, 5)
    hub.publish(6, [("310100", "C00000003")])
    assert (agent.latest, field.latest, boss.latest) == (None, 6, 6)
    hub.publish(7, [("", "")])  # a global row (campaign, rule set)
    assert (agent.latest, field.latest, boss.latest) == (7, 7, 7)
    hub.publish_json('{"s": 8, "k": [["440100", "C00000001"]]}')
    assert (agent.latest, field.latest) == (8, 7)
    hub.unsubscribe(agent)
    assert hub.count == 2
