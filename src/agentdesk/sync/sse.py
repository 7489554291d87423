"""A minimal Server-Sent Events parser (the ``text/event-stream`` framing of the WHATWG spec)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["ServerEvent", "parse_events"]


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One dispatched event: ``event`` name (``message`` when unnamed), ``data`` and ``id``."""

    event: str
    data: str
    id: str | None = None


def parse_events(lines: Iterable[str]) -> Iterator[ServerEvent]:
    """Turn the lines of an event stream into events.

    A comment line (``: ping``, the server's heartbeat) yields a ``heartbeat`` event at once, so
    that a listener can notice it was asked to stop; unknown fields are ignored; a blank line
    dispatches the event being built, and an event without data is dropped, as the spec says.

    Args:
        lines: the stream's lines without their line terminators.

    Yields:
        Each complete event, in order.
    """
    event, last_id = "", None
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield ServerEvent(event or "message", "\n".join(data), last_id)
            event, data = "", []
            continue
        if line.startswith(":"):
            yield ServerEvent("heartbeat", line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value
