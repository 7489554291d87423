"""The Server-Sent Events parser."""

from __future__ import annotations

from agentdesk.sync.sse import ServerEvent, parse_events


def test_events_comments_multiline_and_ids() -> None:
    lines = [": keepalive", "", "event: change", "id: 9", "data: a", "data: b", "", "data: x", ""]
    assert list(parse_events(lines)) == [
        ServerEvent("heartbeat", "keepalive"),
        ServerEvent("change", "a\nb", "9"),
        ServerEvent("message", "x", "9"),
    ]


def test_an_event_without_data_is_dropped_and_an_unfinished_one_is_not_dispatched() -> None:
    assert list(parse_events(["event: change", "", "event: change", "data: 1"])) == []
