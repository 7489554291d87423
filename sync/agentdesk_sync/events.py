"""``GET /v1/events``: Server-Sent Events telling a client that its scope changed.

Each write transaction that appends to the change log announces ``(seq, scopes)`` where a scope
is ``(region_code, customer_id)`` of a change (both empty for global rows). On PostgreSQL the
announcement is a ``NOTIFY`` in the same transaction and every service process runs one
listener task on a dedicated psycopg connection; on SQLite the writer hands it to the in-process
:class:`Broadcaster` after commit. Subscribers get ``event: change`` with ``{"seq"}`` when a
change is in their scope, and a comment line every ``heartbeat_s`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import msgspec
import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import select
from sqlalchemy.engine import make_url

from agentdesk_sync.auth import Principal
from agentdesk_sync.db.models import Portfolio

__all__ = ["Broadcaster", "Subscriber", "event_stream", "listen_postgres", "load_portfolio"]

_LOG = logging.getLogger(__name__)
Scope = tuple[str, str]


@dataclass(eq=False)
class Subscriber:
    """One ``/v1/events`` connection: its scope and a wake-up slot holding the newest seq."""

    principal: Principal
    portfolio: frozenset[str] = frozenset()
    latest: int | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, scopes: Iterable[Scope] | None) -> bool:
        """Whether any of ``scopes`` (None: unknown, so yes) is in this subscriber's scope."""
        if scopes is None or self.principal.sees_all:
            return True
        for region, customer in scopes:
            if not region and not customer:
                return True
            if self.principal.uses_portfolio:
                if customer in self.portfolio:
                    return True
            elif region in self.principal.regions:
                return True
        return False

    def notify(self, seq: int) -> None:
        """Record ``seq`` and wake the stream."""
        self.latest = seq if self.latest is None else max(self.latest, seq)
        self.wake.set()


class Broadcaster:
    """Fan-out of change announcements to the subscribers of this process."""

    def __init__(self) -> None:
        self._subs: set[Subscriber] = set()

    def subscribe(
        self, principal: Principal, portfolio: frozenset[str] = frozenset()
    ) -> Subscriber:
        """Register a subscriber."""
        sub = Subscriber(principal, portfolio)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a subscriber."""
        self._subs.discard(sub)

    def publish(self, seq: int, scopes: Iterable[Scope] | None) -> None:
        """Wake every subscriber whose scope contains one of ``scopes``."""
        scope_list = None if scopes is None else list(scopes)
        for sub in list(self._subs):
            if sub.wants(scope_list):
                sub.notify(seq)

    def publish_json(self, payload: str) -> None:
        """Publish a ``NOTIFY`` payload ``{"s": seq, "k": [[region, customer], ...] | null}``."""
        try:
            data = msgspec.json.decode(payload)
            seq = int(data["s"])
            scopes = None if data.get("k") is None else [(str(a), str(b)) for a, b in data["k"]]
        except (msgspec.DecodeError, KeyError, TypeError, ValueError):
            _LOG.warning("ignoring malformed change notification %r", payload[:200])
            return
        self.publish(seq, scopes)

    @property
    def count(self) -> int:
        """Number of live subscribers."""
        return len(self._subs)


async def load_portfolio(conn: object, principal: Principal) -> frozenset[str]:
    """The portfolio of a field user (empty for everyone else)."""
    if not principal.uses_portfolio:
        return frozenset()
    stmt = select(Portfolio.customer_id).where(Portfolio.user_id == principal.user_id)
    rows = await conn.execute(stmt)  # type: ignore[attr-defined]
    return frozenset(rows.scalars())


async def event_stream(
    broadcaster: Broadcaster, sub: Subscriber, heartbeat_s: float
) -> AsyncIterator[bytes]:
    """The SSE body: a hello comment, then change events and heartbeats until disconnect."""
    try:
        yield b"retry: 2000\n: connected\n\n"
        while True:
            try:
                await asyncio.wait_for(sub.wake.wait(), timeout=heartbeat_s)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            sub.wake.clear()
            seq, sub.latest = sub.latest, None
            if seq is not None:
                yield b"event: change\ndata: " + msgspec.json.encode({"seq": seq}) + b"\n\n"
    finally:
        broadcaster.unsubscribe(sub)


def pg_conninfo(db_url: str) -> str:
    """libpq connection string of a SQLAlchemy PostgreSQL URL."""
    url = make_url(db_url)
    params = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


async def listen_postgres(db_url: str, channel: str, broadcaster: Broadcaster) -> None:
    """Relay ``NOTIFY`` payloads on ``channel`` to ``broadcaster`` until cancelled (reconnects)."""
    conninfo, first = pg_conninfo(db_url), True
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            async with conn:
                await conn.execute(f'LISTEN "{channel}"'.encode())
                if not first:
                    broadcaster.publish(0, None)  # we may have missed something: everyone pulls
                first = False
                async for note in conn.notifies():
                    broadcaster.publish_json(note.payload)
        except (psycopg.Error, OSError) as exc:
            _LOG.info("change listener lost its connection (%s); reconnecting", exc)
            await asyncio.sleep(0.5)


async def stop_task(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait for it."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
