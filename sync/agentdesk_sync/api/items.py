"""Building blocks of push processing shared by facts (contacts) and intents.

* a push batch runs in ONE write transaction on both backends (:func:`item_txn` without
  ``outer``; on SQLite ``BEGIN IMMEDIATE`` under the app's write lock); intents run in a
  SAVEPOINT of it (:func:`item_txn` with ``outer``), see docs/sync.md;
* one async write transaction (:func:`write_txn`) for claims;
* :func:`publish` appends change-log rows through :func:`agentdesk_sync.db.changes.append_changes`
  and, on PostgreSQL, ``NOTIFY``s in the same transaction (:func:`announce`);
* payload hashing, stored results (replayed byte-identical), and the item outcomes.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, cast

import msgspec
import psycopg
from sqlalchemy import Connection, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session

from agentdesk.protocol import ItemError, PushItem, PushResult
from agentdesk_sync.api.wire import error_fields
from agentdesk_sync.db.changes import ChangeRow, append_changes
from agentdesk_sync.db.models import ChangeLog
from agentdesk_sync.deps import AppState

__all__ = [
    "NOTIFY_CHANNEL",
    "RETRY_AFTER_MS",
    "Events",
    "Reject",
    "announce",
    "decode_payload",
    "encode_result",
    "high_water",
    "high_water_sync",
    "item_body",
    "item_txn",
    "payload_hash",
    "publish",
    "publish_sync",
    "rejected",
    "replay",
    "retry",
    "write_txn",
]

NOTIFY_CHANNEL = "agentdesk_change"
RETRY_AFTER_MS = 1000
_NOTIFY_MAX = 7000
_EVENTS = "agentdesk_events"  # pg_notify payloads must stay below 8000 bytes


class Reject(Exception):
    """Raised inside an item transaction to roll it back and answer ``rejected``.

    Args:
        code: Item-level error code (``out_of_scope``, ``invalid_payload``, …).
        message: One sentence.
        details: Machine-readable details (``fields`` for invalid payloads).
        store: Whether the rejection is itself recorded (intents rejected by policy).
    """

    def __init__(
        self, code: str, message: str, details: dict[str, Any] | None = None, *, store: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.store = store


def payload_hash(item: PushItem, body: bytes | None = None) -> str:
    """SHA-256 of everything an item means (kind, schema, payload, claim, fence), key-order free.

    ``body``: the item's :func:`item_body` when the caller already encoded it.
    """
    return hashlib.sha256(item_body(item) if body is None else body).hexdigest()


def item_body(item: PushItem) -> bytes:
    """The canonical JSON of what an item means (keys sorted), the input of :func:`payload_hash`.

    A NUL character anywhere in it shows as the escape ``\\u0000`` (never as a raw byte).
    """
    return msgspec.json.encode(
        [item.kind, item.schema, item.payload, item.claim_id, item.fence], order="sorted"
    )


def decode_payload(payload: dict[str, Any], cls: type[Any]) -> Any:
    """Convert a payload dict into its Struct.

    Raises:
        Reject: ``invalid_payload`` with ``details.fields``.
    """
    try:
        return msgspec.convert(payload, cls)
    except msgspec.ValidationError as exc:
        fields = error_fields(exc, "payload")
        raise Reject("invalid_payload", "The payload is invalid.", {"fields": fields}) from exc


def rejected(
    item_id: str, code: str, message: str, details: dict[str, Any] | None = None
) -> PushResult:
    """A ``rejected`` result."""
    return PushResult(
        id=item_id,
        status="rejected",
        error=ItemError(code=code, message=message, details=details or {}),
    )


def retry(item_id: str, after_ms: int = RETRY_AFTER_MS, code: str = "unavailable") -> PushResult:
    """A ``retry`` result (the batch stops here)."""
    error = ItemError(code=code, message="Try again later.", retry_after_ms=after_ms)
    return PushResult(id=item_id, status="retry", error=error)


def encode_result(result: PushResult) -> dict[str, Any]:
    """The stored (JSON) form of a result."""
    stored = msgspec.to_builtins(result)
    assert isinstance(stored, dict)
    return stored


def replay(stored: dict[str, Any], server_seq: int | None) -> PushResult:
    """The original result of an item seen before, as ``duplicate`` (rejections stay rejected)."""
    original = msgspec.convert(stored, PushResult)
    status = "rejected" if original.status == "rejected" else "duplicate"
    seq = server_seq if server_seq else original.server_seq
    return msgspec.structs.replace(original, status=status, server_seq=seq)


Events = list[tuple[int, list[tuple[str, str]]]]


@contextmanager
def item_txn(
    state: AppState, events: Events, outer: Connection | None = None
) -> Iterator[Connection]:
    """A write transaction (run it in a worker thread), or a SAVEPOINT of ``outer``.

    With ``outer`` (the connection of a push batch) the item runs in a SAVEPOINT of it and its
    announcements wait for the batch commit. Otherwise a new transaction starts, on SQLite with
    ``BEGIN IMMEDIATE`` (the caller holds the app's write lock), and after its commit the
    announcements are appended to ``events``; on PostgreSQL they went out as ``NOTIFY`` inside
    the transaction.
    """
    if outer is not None:
        pending = outer.info.setdefault(_EVENTS, [])
        mark = len(pending)
        try:
            with outer.begin_nested():
                yield outer
        except BaseException:
            del pending[mark:]  # the rolled-back item announces nothing
            raise
        return
    with state.sync_engine.connect() as conn:
        if state.is_sqlite:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        try:
            with conn.begin():
                yield conn
            events.extend(conn.info.pop(_EVENTS, ()))
        finally:
            conn.info.pop(_EVENTS, None)


@asynccontextmanager
async def write_txn(state: AppState) -> AsyncIterator[AsyncConnection]:
    """One async write transaction (committed on exit, rolled back on an exception)."""
    if state.is_sqlite:
        async with state.write_lock:
            conn = await state.engine.connect()
            try:
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    yield conn
                for seq, scopes in conn.info.pop(_EVENTS, ()):
                    state.broadcaster.publish(seq, scopes)
            finally:
                conn.info.pop(_EVENTS, None)
                await conn.close()
        return
    async with state.engine.begin() as conn:
        yield conn


class _Bound:
    """What :func:`append_changes` uses of a Session, on a plain connection.

    A real ``Session(bind=conn)`` would join (and end) the item's SAVEPOINT when it is
    discarded; this stand-in leaves transaction control to the caller.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def flush(self) -> None:
        """Nothing to flush: the push pipeline writes with Core statements."""

    def connection(self) -> Connection:
        """The connection of the item's transaction."""
        return self._conn


def publish_sync(conn: Connection, changes: Sequence[ChangeRow]) -> list[int]:
    """Append ``changes`` to the change log (taking seq numbers last) and announce them.

    PostgreSQL: ``NOTIFY`` in the same transaction, in the pipeline of the change-log rows.
    SQLite: the announcement waits in ``conn.info`` until the transaction helper sees the commit.
    """

    def notify(conn: Connection, seqs: list[int]) -> None:
        announce(conn, seqs[-1], changes)

    return append_changes(cast(Session, _Bound(conn)), changes, notify)


def announce(conn: Connection, last_seq: int, changes: Sequence[ChangeRow]) -> None:
    """Announce ``changes`` (the newest number ``last_seq``) to ``/v1/events`` subscribers.

    PostgreSQL: ``NOTIFY`` in the same transaction (delivered at commit), on a synchronous
    psycopg connection sent on the driver connection, so it may go out in the pipeline of the
    change-log rows (``db.changes.pipelined``: no round trip of its own). SQLite: the
    announcement waits in ``conn.info`` until :func:`item_txn` sees the commit.
    """
    if conn.dialect.name == "postgresql":
        payload = _notify_payload(last_seq, changes)
        raw: Any = conn.connection.driver_connection
        if isinstance(raw, psycopg.Connection):
            with raw.cursor() as cur:
                cur.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, payload))
            return
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": NOTIFY_CHANNEL, "p": payload})
    else:
        scopes = [(c.region_code or "", c.customer_id or "") for c in changes]
        conn.info.setdefault(_EVENTS, []).append((last_seq, scopes))


async def publish(conn: AsyncConnection, changes: Sequence[ChangeRow]) -> list[int]:
    """:func:`publish_sync` on an async connection."""
    return await conn.run_sync(publish_sync, changes)


def _notify_payload(seq: int, changes: Sequence[ChangeRow]) -> str:
    scopes = sorted({(c.region_code or "", c.customer_id or "") for c in changes})
    body = msgspec.json.encode({"s": seq, "k": scopes}).decode()
    if len(body) > _NOTIFY_MAX:
        body = msgspec.json.encode({"s": seq, "k": None}).decode()  # None: everyone checks
    return body


def high_water_sync(conn: Connection) -> int:
    """The newest ``server_seq`` in the change log (0 when empty)."""
    value = conn.execute(select(func.max(ChangeLog.server_seq))).scalar_one_or_none()
    return int(value or 0)


async def high_water(conn: AsyncConnection) -> int:
    """:func:`high_water_sync` on an async connection."""
    return await conn.run_sync(high_water_sync)
