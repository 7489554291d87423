"""``POST /v1/sync/push``: the contact ledger and the push pipeline (docs/sync.md, docs/api.md).

A batch runs in ONE savepoint of a group commit on both backends (:mod:`agentdesk_sync.writer`:
the batches and claim requests waiting together share one transaction and one ``COMMIT``; SQLite:
``BEGIN IMMEDIATE`` under the app's write lock), after the requests that came before it in the
group, whose contacts it counts like stored ones. Items are judged in device ``seq`` order,
exactly as if they ran one after the other, but the database work is done set-wise:

1. every item is decoded and validated first (no database); a bad item answers ``rejected``;
2. for each run of consecutive contacts: one query finds the ids already in the ledger
   (``duplicate`` with the original result, or ``rejected``/``idempotency_key_reuse`` when the
   payload differs), one reads the customers and their claims, one reads the 90-day
   histories. No customer row is locked: the group took the sequencer lock first and holds it
   to its commit, and every other writer of what the policy reads (customers, claims, the
   ledger: claim requests in the same groups, merges and imports) takes that lock before it
   writes, so no concurrent write can slip in between this read and the commit (see "Locks"
   below);
3. :func:`agentdesk.policy.check_contact` runs per contact in ``seq`` order against the stored
   history PLUS the contacts accepted earlier in the same batch, so two contacts of one batch
   to one customer count against each other's caps. A customer outside the pusher's scope is
   ``rejected``/``out_of_scope``; a policy breach only flags the contact
   (``applied_with_conflict``), never rejects it;
4. last, the sequence numbers are reserved once (the sequencer lock is held from the group's
   first statement to its commit), the ledger rows (with their ``server_seq``), the claim
   releases and the change-log rows are written with one statement each, and PostgreSQL is
   ``NOTIFY``-ed in the same transaction.

On PostgreSQL the ledger lookup goes out with the customers' read (step 2, one pipeline: the
customers of every contact not yet judged, so a duplicate costs one more row read, not a round
trip), and the releases, the reservation and the writes of step 4 in one more.

Locks: the policy check is only sound if nothing the check read changes before the batch
commits. On SQLite the write transaction is exclusive. On PostgreSQL the sequencer row lock
(:func:`agentdesk_sync.db.changes.lock_sequencer`, a write group's FIRST statement, held to its
commit) serialises every writer: push batches and claim requests (the write groups of every
service process), ``agentdesk-sync merge`` (``lock_sequencer`` before it touches a customer)
and the imports (customers, campaigns, targets: the reservation's ``UPDATE sequencer`` comes
before their first customer row). Under READ COMMITTED each statement of the group sees every
transaction that committed before the group got the lock, so the reads of step 2 already see
the last committed state. The customer rows used to be locked ``FOR UPDATE`` as well; that lock
protected nothing the sequencer does not, and on PostgreSQL it is not free: it stores the
locker in the tuple, so every push dirtied a customer heap page (and, first after a checkpoint,
wrote it whole to the WAL: about half of a push's WAL at 1 M customers, docs/operations.md).

Intents (``callback``, ``visit_plan``, ``reaction``, ``feedback``) run one by one in a SAVEPOINT
of the batch transaction, in their ``seq`` place: the contacts before them are written first.

A database failure anywhere rolls the whole batch back (to its savepoint; or the whole group
when the group's transaction failed) and every item answers ``retry`` (nothing is half-written,
and no later item overtakes an earlier one). A unique-key clash with a concurrent push of the
same id from another process reruns the batch once in a fresh savepoint; the rerun answers
``duplicate``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
import msgspec
import orjson
import psycopg
from sqlalchemy import (
    Connection,
)
from sqlalchemy.exc import DBAPIError

from agentdesk.domain import (
    Channel,
    Claim,
    Contact,
    CustomerAttributes,
    OfferReaction,
    Reaction,
    ResultCode,
    Role,
)
from agentdesk.policy import RuleSet, Violation, check_contact
from agentdesk.protocol import (
    Conflict,
    ConflictOther,
    ContactPayload,
    PushItem,
    PushRequest,
    PushResponse,
    PushResult,
    Reason,
    to_row,
)
from agentdesk_sync.api import intents
from agentdesk_sync.api.items import (
    Events,
    Reject,
    announce,
    decode_payload,
    encode_result,
    high_water_sync,
    item_body,
    payload_hash,
    rejected,
    replay,
    retry,
)
from agentdesk_sync.api.loaders import (
    HISTORY_DAYS,
    attributes_of,
    claims_of,
    rules_now,
)
from agentdesk_sync.api.wire import as_utc, iso, parse_ts, utcnow
from agentdesk_sync.auth import Principal
from agentdesk_sync.db.changes import (
    COPY_THRESHOLD,
    ChangeRow,
    insert_log,
    pipelined,
    reserve_seqs,
    sqlite_ts,
)
from agentdesk_sync.db.driver import rows_together
from agentdesk_sync.deps import AppState
from agentdesk_sync.errors import is_transient_db_error
from agentdesk_sync.scope import find_customer
from agentdesk_sync.writer import unique_clash

__all__ = ["SCHEMAS", "PushContext", "conflict_of", "push"]

_LOG = logging.getLogger(__name__)
SCHEMAS = frozenset({1})
_DONE = ("applied", "applied_with_conflict", "duplicate")
# The hot statements go to the driver directly (SQLAlchemy's per-statement work cost more than
# SQLite's own): ``?`` with ``json_each`` lists on SQLite, ``%s`` with ``= ANY`` arrays on PG.
_CONTACT_COLS = (
    "contact_id, customer_id, channel, staff_id, campaign_id, started_at, ended_at, result_code,"
    " is_marketing, reached, row, device_id, payload_hash, result, server_seq, received_at"
)
_SQL: dict[str, dict[str, str]] = {
    "sqlite": {
        "in": "IN (SELECT value FROM json_each(?))",
        "dedupe": "SELECT contact_id, payload_hash, result, server_seq FROM contact"
        " WHERE contact_id IN (SELECT value FROM json_each(?))",
        "history": "SELECT customer_id, row FROM contact"
        " WHERE customer_id IN (SELECT value FROM json_each(?)) AND started_at >= ?",
        "insert": f"INSERT INTO contact ({_CONTACT_COLS}) VALUES ({', '.join('?' * 16)})",
        "release": "UPDATE claim SET lease_until = ?"
        " WHERE customer_id = ? AND claim_id = ? AND lease_until > ?",
        "portfolio_of": "SELECT customer_id FROM portfolio WHERE user_id = ?"
        " AND customer_id IN (SELECT value FROM json_each(?))",
        "row": "c.row",
        "true": "1",
        "portfolio": "EXISTS (SELECT 1 FROM portfolio p WHERE p.user_id = ?"
        " AND p.customer_id = c.customer_id)",
    },
    "postgresql": {
        "in": "= ANY(%s)",
        "dedupe": "SELECT contact_id, payload_hash, result::text, server_seq FROM contact"
        " WHERE contact_id = ANY(%s)",
        "history": "SELECT customer_id, row::text FROM contact"
        " WHERE customer_id = ANY(%s) AND started_at >= %s",
        "insert": f"INSERT INTO contact ({_CONTACT_COLS}) VALUES"
        " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::jsonb, %s, %s)",
        "release": "UPDATE claim SET lease_until = %s"
        " WHERE customer_id = %s AND claim_id = %s AND lease_until > %s",
        "portfolio_of": "SELECT customer_id FROM portfolio WHERE user_id = %s"
        " AND customer_id = ANY(%s)",
        "row": "c.row::text",
        "true": "true",
        "portfolio": "EXISTS (SELECT 1 FROM portfolio p WHERE p.user_id = %s"
        " AND p.customer_id = c.customer_id)",
    },
}


_SQLITE_RESERVE = "UPDATE sequencer SET value = value + ? WHERE name = 'change' RETURNING value"


@functools.cache
def _customers_sql(dialect: str, kind: str) -> str:
    """The customers with the given ids, their claim, and whether the pusher sees them.

    The stored row (the policy's attributes) comes only for the ids of the first parameter,
    the customers of marketing contacts: the policy does not read the others (NULL instead).

    Not locked: the write group's sequencer lock already serialises every writer of these rows
    (the module's docstring, "Locks"). A row stored under a merged-away id is left out: the
    caller looks such an id up through its redirect (:func:`find_customer`), so a push to it
    counts the kept customer's contacts, not a stale row's.
    """
    sql = _SQL[dialect]
    visible = {"all": sql["true"], "portfolio": sql["portfolio"]}.get(
        kind, f"c.region_code {sql['in']}"
    )
    return (
        f"SELECT c.customer_id, c.region_code,"
        f" CASE WHEN c.customer_id {sql['in']} THEN {sql['row']} END, {visible},"
        " k.claim_id, k.holder_id, k.channel, k.fence, k.lease_until, k.purpose, k.acquired_at"
        " FROM customer c LEFT OUTER JOIN claim k ON k.customer_id = c.customer_id"
        f" WHERE c.customer_id {sql['in']} AND NOT EXISTS (SELECT 1 FROM customer_redirect r"
        " WHERE r.old_id = c.customer_id) ORDER BY c.customer_id"
    )


# Stored rows are decoded straight from their JSON text into the domain types (no dict step).
_CONTACT_ROW = msgspec.json.Decoder(Contact, strict=False)


class _CustomerRow(msgspec.Struct):
    """The part of a stored customer row the policy needs."""

    attributes: CustomerAttributes | None = None


_CUSTOMER_ROW = msgspec.json.Decoder(_CustomerRow, strict=False)
# What the policy gets for a contact that is not marketing: it does not look at the customer.
_UNREAD = CustomerAttributes(customer_id="", msisdn="", name="")
_ATTRIBUTES = msgspec.json.Decoder(CustomerAttributes, strict=False)


@dataclass(frozen=True, slots=True)
class PushContext:
    """What every item of one push shares (``outer``: the batch's connection)."""

    state: AppState
    principal: Principal
    device_id: str
    rules: RuleSet
    events: Events
    outer: Connection | None = None


async def push(state: AppState, principal: Principal, request: PushRequest) -> PushResponse:
    """Process a push batch and answer per item, in request order.

    The batch is one request of the process's group commit (:mod:`agentdesk_sync.writer`): it
    runs in a savepoint of the group's transaction after the requests that came before it, and
    is answered after the group's commit (which also announces its changes).
    """
    if not request.items:  # nothing to write: no write lock, no transaction
        mark = await anyio.to_thread.run_sync(_current_high_water, state)
        return PushResponse(results=[], write_checkpoint=mark)
    batch = (principal, request)
    try:
        response: PushResponse
        if all(item.kind == "contact" for item in request.items):  # shares a pass with others
            merge = functools.partial(_apply, state)
            response = await state.writer.submit_merged(
                state, "push", merge, batch, size=len(request.items), rerun_on_clash=True
            )
        else:  # intents: a savepoint of their own, so their failure sinks no other batch
            work = functools.partial(_apply_one, state, batch)
            response = await state.writer.submit(state, work, rerun_on_clash=True)
    except Exception as exc:
        if unique_clash(exc):  # a concurrent push of the same id won twice over
            _LOG.warning("push batch: unique-key clash twice, asking for retry: %s", exc)
        elif is_transient_db_error(exc) or _transient_driver_error(exc):
            _LOG.warning("push batch: database error, asking for retry: %s", exc)
        elif _database_error(exc):  # not a passing fault, but nothing was stored (docs/sync.md)
            _LOG.error("push batch: database fault, asking for retry: %s", exc, exc_info=exc)
        else:
            raise
        return PushResponse(results=[retry(i.id) for i in request.items], write_checkpoint=0)
    return response


def _database_error(exc: BaseException) -> bool:
    """Any error of the database (through SQLAlchemy or a driver directly)."""
    return isinstance(exc, (DBAPIError, sqlite3.Error, psycopg.Error))


def _transient_driver_error(exc: BaseException) -> bool:
    """A driver error (the hot statements bypass SQLAlchemy) that a retry may cure."""
    if isinstance(exc, (sqlite3.OperationalError, psycopg.OperationalError)):
        return True
    sqlstate = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, psycopg.Error) and sqlstate[:2] in ("40", "55", "57", "08", "53")


def _apply(
    state: AppState, conn: Connection, batches: list[tuple[Principal, PushRequest]]
) -> list[PushResponse]:
    """Push ``batches`` one after the other on ``conn`` (inside the group's transaction)."""
    rules = rules_now(conn, state)
    runs = []
    for principal, request in batches:
        device = request.device_id.replace("\x00", "")[:64]
        runs.append((PushContext(state, principal, device, rules, [], conn), request))
    return _Batch(conn).run(runs)


def _apply_one(
    state: AppState, batch: tuple[Principal, PushRequest], conn: Connection
) -> PushResponse:
    return _apply(state, conn, [batch])[0]


# Stands in for the pusher when a merged-away id is followed: whether each pusher may see the
# customer is judged per contact.
_ANYONE = Principal("", "", Role.ADMIN, (), ())


def _current_high_water(state: AppState) -> int:
    try:
        with state.sync_engine.connect() as conn:
            return high_water_sync(conn)
    except Exception as exc:
        if not is_transient_db_error(exc):
            raise
        return 0


@dataclass(slots=True)
class _Contact:
    """A contact item that passed validation, waiting for its turn in the set-wise step."""

    index: int
    item: PushItem
    payload: ContactPayload
    contact: Contact
    digest: str
    ctx: PushContext


@dataclass(slots=True)
class _Accepted:
    """A contact accepted into the ledger in this batch (its number comes with the flush)."""

    index: int
    item_id: str
    digest: str
    result: PushResult
    stored: dict[str, Any]
    contact: Contact
    row: dict[str, Any]
    change: int  # index of its change-log row in the batch's pending changes
    device_id: str
    seq: int = 0


@dataclass(slots=True)
class _Customer:
    """A customer as a push needs it; its attributes are decoded on first use."""

    customer_id: str
    region_code: str
    raw: str | None = None  # the stored row as JSON text
    row: dict[str, Any] | None = None  # or already decoded (the merged-id path)
    decoded: CustomerAttributes | None = None

    def attributes(self) -> CustomerAttributes:
        if self.decoded is None:
            self.decoded = _attributes(self.raw) if self.row is None else attributes_of(self.row)
        return self.decoded


def _attributes(raw: str | None) -> CustomerAttributes:
    try:
        found = _CUSTOMER_ROW.decode(raw or "")
        return found.attributes or _ATTRIBUTES.decode(raw or "")
    except (msgspec.ValidationError, msgspec.DecodeError):  # the general path says why
        return attributes_of(msgspec.json.decode(raw or "null"))


@dataclass(slots=True)
class _Customers:
    """The customers of one run of contacts: by requested id, their claims by kept id."""

    refs: dict[str, _Customer | None] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)


class _Batch:
    """Push batches inside their transaction (see the module docstring).

    One or more requests (of a write group) are judged one after the other, item by item, as
    if each ran alone; runs of consecutive contacts, also across requests, share their reads
    and writes.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.sql = _SQL[conn.dialect.name]
        self.raw: Any = conn.connection.driver_connection  # same transaction as ``conn``
        self.now = utcnow()
        self.now_ts: Any = self._ts(self.now)  # formatted once for every row of the batch
        self.results: list[PushResult | None] = []
        self.accepted: dict[str, _Accepted] = {}  # by item id, for replays within the batch
        self.replays: list[tuple[int, _Accepted]] = []  # (index, original) answered duplicate
        self.added: dict[str, list[Contact]] = {}  # customer -> accepted, not yet written
        self.claims: dict[str, Claim] = {}  # customer -> claim, as this batch left it
        self.unflushed: list[_Accepted] = []
        self.changes: list[ChangeRow] = []
        self.releases: list[tuple[Any, ...]] = []
        self.portfolios: dict[str, set[str]] = {}  # field user -> customers of the run in it
        self.mark: int | None = None

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        if self.pg:
            with self.raw.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())
        return list(self.raw.execute(sql, params).fetchall())

    def _list(self, values: list[str]) -> Any:
        return values if self.pg else orjson.dumps(values).decode()

    def _ts(self, value: datetime) -> Any:
        return value if self.pg else sqlite_ts(value)

    def run(self, batches: list[tuple[PushContext, PushRequest]]) -> list[PushResponse]:
        """Judge ``batches`` in order and answer each (its results in request order)."""
        self.results = [None] * sum(len(request.items) for _, request in batches)
        run: list[_Contact] = []
        offset = 0
        for ctx, request in batches:
            items = request.items
            for k in sorted(range(len(items)), key=lambda i: items[i].seq):
                index, item = offset + k, items[k]
                body = item_body(item)
                if _has_nul(
                    item, body
                ):  # PostgreSQL text cannot store it; refused on both backends
                    fields = {"payload": "contains a NUL character"}
                    self.results[index] = rejected(
                        item.id, "invalid_payload", "The item is invalid.", {"fields": fields}
                    )
                    continue
                if item.kind == "contact" and item.schema in SCHEMAS:
                    prepared = self._prepare(ctx, index, item, body)
                    if prepared is not None:
                        run.append(prepared)
                    continue
                self._contacts(run)
                run = []
                self._flush()
                self.results[index] = self._other(ctx, item)
            offset += len(items)
        self._contacts(run)
        self._flush()
        for index, original in self.replays:
            self.results[index] = replay(original.stored, original.seq)
        for accepted in self.accepted.values():
            result = msgspec.structs.replace(accepted.result, server_seq=accepted.seq)
            self.results[accepted.index] = result
        answers, offset = [], 0
        for _, request in batches:
            results = self.results[offset : offset + len(request.items)]
            offset += len(request.items)
            answers.append(self._response([r for r in results if r is not None]))
        return answers

    def _response(self, results: list[PushResult]) -> PushResponse:
        seqs = [r.server_seq for r in results if r.status in _DONE and r.server_seq]
        if seqs:
            return PushResponse(results=results, write_checkpoint=max(seqs))
        if self.mark is None:
            self.mark = high_water_sync(self.conn)
        return PushResponse(results=results, write_checkpoint=self.mark)

    def _prepare(
        self, ctx: PushContext, index: int, item: PushItem, body: bytes
    ) -> _Contact | None:
        """Decode and validate a contact (no database); a bad one is answered at once."""
        try:
            payload: ContactPayload = decode_payload(item.payload, ContactPayload)
            _may_record(ctx.principal)
            user = ctx.principal.user_id
            contact = _contact_of(payload, item, user, payload.customer_id)
        except Reject as exc:
            self.results[index] = rejected(item.id, exc.code, exc.message, exc.details)
            return None
        return _Contact(index, item, payload, contact, payload_hash(item, body), ctx)

    def _other(self, ctx: PushContext, item: PushItem) -> PushResult:
        """An item that is not a valid-schema contact: an intent, or a rejection."""
        if item.schema not in SCHEMAS:
            details: dict[str, object] = {"supported": sorted(SCHEMAS)}
            return rejected(item.id, "schema_unsupported", "Unsupported payload schema.", details)
        handler = intents.HANDLERS.get(item.kind)
        if handler is None:
            details = {"fields": {"kind": f"unknown kind {item.kind!r}"}}
            return rejected(item.id, "invalid_payload", "Unknown item kind.", details)
        try:
            return handler(ctx, item, payload_hash(item))
        except Reject as exc:
            return rejected(item.id, exc.code, exc.message, exc.details)

    def _contacts(self, run: list[_Contact]) -> None:
        """Judge a run of consecutive contacts in ``seq`` order with three reads in all."""
        if not run:
            return
        ids = list({c.item.id for c in run} - self.accepted.keys())
        # the customers of every contact not judged yet, read in the same round trip as the
        # ledger lookup: the few that turn out to be duplicates cost a row read, not a second
        # round trip
        wanted = sorted({c.payload.customer_id for c in run if c.item.id not in self.accepted})
        marketing = sorted(
            {
                c.payload.customer_id
                for c in run
                if c.contact.is_marketing and c.item.id not in self.accepted
            }
        )
        known: dict[str, tuple[Any, ...]] = {}
        customer_rows: list[Any] = []
        if ids:
            dedupe = (self.sql["dedupe"], (self._list(ids),))
            if wanted:
                customers_sql = _customers_sql(self.conn.dialect.name, "all")
                found, customer_rows = rows_together(
                    self.conn,
                    dedupe,
                    (customers_sql, (self._list(marketing), self._list(wanted))),
                )
            else:
                (found,) = rows_together(self.conn, dedupe)
            known = {r[0]: r for r in found}
        fresh = [c for c in run if c.item.id not in known and c.item.id not in self.accepted]
        customers = self._customers(wanted if fresh else [], customer_rows)
        self._portfolios(fresh, customers)
        history = self._histories(fresh, customers)
        for c in run:
            try:
                self.results[c.index] = self._judge(c, known, customers, history)
            except Reject as exc:
                self.results[c.index] = rejected(c.item.id, exc.code, exc.message, exc.details)

    def _customers(self, wanted: list[str], rows: list[Any]) -> _Customers:
        """The customers and their claims, by requested id (no row lock: "Locks" above).

        ``rows`` are the rows of :func:`_customers_sql` for ``wanted``, already read. Whether
        each pusher may see a customer is judged per contact (:meth:`_visible`): the requests
        of one run may come from different users.
        """
        found = _Customers()
        if not wanted:
            return found
        for row in rows:
            customer_id, region, raw, _visible, claim_id = row[:5]
            found.refs[customer_id] = _Customer(customer_id, region, raw=raw)
            if claim_id is not None:
                found.claims[customer_id] = _claim(customer_id, row[4:])
        for requested in wanted:
            if requested in found.refs:
                continue  # merged-away or unknown ids below: rare, one by one
            kept = find_customer(self.conn, _ANYONE, requested)
            if kept is None:
                found.refs[requested] = None
                continue
            found.refs[requested] = _Customer(kept.customer_id, kept.region_code, row=kept.row)
            if kept.customer_id not in found.claims:
                for claim in claims_of(self.conn, [kept.customer_id]):
                    found.claims[claim.customer_id] = claim
        for customer_id, claim in found.claims.items():
            self.claims.setdefault(customer_id, claim)  # a release earlier in the batch wins
        return found

    def _portfolios(self, fresh: list[_Contact], customers: _Customers) -> None:
        """The portfolio rows of the run's field users for the run's customers (one query each)."""
        users = {c.ctx.principal.user_id for c in fresh if c.ctx.principal.uses_portfolio}
        kept = sorted({ref.customer_id for ref in customers.refs.values() if ref is not None})
        for user in sorted(users):
            rows = self._rows(self.sql["portfolio_of"], (user, self._list(kept)))
            self.portfolios.setdefault(user, set()).update(r[0] for r in rows)

    def _visible(self, principal: Principal, ref: _Customer) -> bool:
        """Whether ``principal`` may see the customer (docs/domain.md, roles)."""
        if principal.uses_portfolio:
            return ref.customer_id in self.portfolios.get(principal.user_id, ())
        return principal.sees_all or ref.region_code in principal.regions

    def _histories(self, fresh: list[_Contact], customers: _Customers) -> dict[str, list[Contact]]:
        """The stored contacts of the customers that a marketing contact needs, one query."""
        since: dict[str, datetime] = {}
        for c in fresh:
            ref = customers.refs.get(c.payload.customer_id)
            if ref is None or not c.contact.is_marketing or not self._visible(c.ctx.principal, ref):
                continue
            start = self._since(c.contact)
            since[ref.customer_id] = min(since.get(ref.customer_id, start), start)
        history: dict[str, list[Contact]] = {cid: [] for cid in since}
        if not since:
            return history
        params = (self._list(sorted(since)), self._ts(min(since.values())))
        for customer_id, raw in self._rows(self.sql["history"], params):
            history[customer_id].append(_CONTACT_ROW.decode(raw))  # no server_seq: not needed
        return history

    def _reserve(self, count: int) -> list[int]:
        """``count`` change numbers: the group's tracked sequencer on PostgreSQL (see
        :func:`agentdesk_sync.db.changes.reserve_seqs`), one raw ``UPDATE`` on SQLite."""
        if self.pg:
            return reserve_seqs(self.conn, count)
        (last,) = self._rows(_SQLITE_RESERVE, (count,))[0]
        return list(range(int(last) - count + 1, int(last) + 1))

    def _many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if self.pg:
            with self.raw.cursor() as cur:
                cur.executemany(sql, rows)
        else:
            self.raw.executemany(sql, rows)

    def _ledger_row(self, a: _Accepted) -> tuple[Any, ...]:
        c, ts = a.contact, self._ts
        return (
            c.contact_id, c.customer_id, c.channel.value, c.staff_id, c.campaign_id,
            ts(c.started_at), ts(c.ended_at), c.result_code.value, c.is_marketing, c.reached,
            orjson.dumps(a.row).decode(), a.device_id, a.digest,
            orjson.dumps(a.stored).decode(), a.seq, self.now_ts,
        )  # fmt: skip

    def _since(self, contact: Contact) -> datetime:
        return min(self.now, contact.started_at) - timedelta(days=HISTORY_DAYS)

    def _judge(
        self,
        c: _Contact,
        known: dict[str, Any],
        customers: _Customers,
        history: dict[str, list[Contact]],
    ) -> PushResult | None:
        """The outcome of one contact, as sequential processing would give it."""
        item = c.item
        earlier = self.accepted.get(item.id)
        if earlier is not None:  # the same id twice in one batch
            if earlier.digest != c.digest:
                raise _reuse(item.id)
            self.replays.append((c.index, earlier))
            return None
        row = known.get(item.id)
        if row is not None:
            _, digest, stored, seq = row
            if digest != c.digest or stored is None:
                raise _reuse(item.id)
            return replay(orjson.loads(stored), seq)
        ref = customers.refs.get(c.payload.customer_id)
        if ref is None:
            fields = {"customer_id": "unknown customer"}
            raise Reject("invalid_payload", "Unknown customer.", {"fields": fields})
        if not self._visible(c.ctx.principal, ref):
            details = {"customer_id": ref.customer_id}
            raise Reject("out_of_scope", "This customer is outside your scope.", details)
        self._accept(c, ref, history.get(ref.customer_id, []))
        return None

    def _accept(self, c: _Contact, ref: _Customer, stored: list[Contact]) -> None:
        contact = c.contact
        if contact.customer_id != ref.customer_id:  # pushed under a merged-away id
            contact = dataclasses.replace(contact, customer_id=ref.customer_id)
        added = self.added.setdefault(ref.customer_id, [])
        history: list[Contact] = []
        if contact.is_marketing:
            since = self._since(contact)
            history = [h for h in (*stored, *added) if h.started_at >= since]
        current = self.claims.get(ref.customer_id)
        # a contact that is not marketing is judged on its fence alone: the policy reads neither
        # its history (see above) nor the customer's attributes, so the stored row is not decoded
        attributes = ref.attributes() if contact.is_marketing else _UNREAD
        violations = check_contact(
            contact,
            attributes,
            history,
            [current] if current else [],
            c.ctx.rules,
            fence=c.item.fence,
            current_fence=current.fence if current else None,
        )
        result = _result(c.item.id, violations, self.now)
        row = to_row(contact)
        stored_result = encode_result(result)
        wire = {**row, "result": stored_result}
        change = len(self.changes)
        self.changes.append(
            ChangeRow("contact", c.item.id, "put", wire, ref.region_code, ref.customer_id)
        )
        accepted = _Accepted(
            c.index,
            c.item.id,
            c.digest,
            result,
            stored_result,
            contact,
            row,
            change,
            c.ctx.device_id,
        )
        self.accepted[c.item.id] = accepted
        self.unflushed.append(accepted)
        added.append(contact)
        user = c.ctx.principal.user_id
        if c.payload.release_claim and current is not None and current.holder_id == user:
            now = self.now_ts
            self.releases.append((now, ref.customer_id, current.claim_id, now))
            self.changes.append(
                ChangeRow(
                    "claim", ref.customer_id, "remove", None, ref.region_code, ref.customer_id
                )
            )
            if current.lease_until > self.now:
                self.claims[ref.customer_id] = dataclasses.replace(current, lease_until=self.now)

    def _flush(self) -> None:
        """Write what the batch accepted so far: numbers last, one statement per table."""
        if not self.changes:
            return
        conn = self.conn
        # PostgreSQL: the claim releases, the numbers (known from the group's sequencer lock),
        # the ledger rows, the change-log rows and the NOTIFY in one pipeline, one round trip
        # (COPY, for big batches, cannot be pipelined)
        with pipelined(conn, len(self.changes) < COPY_THRESHOLD):
            if self.releases:
                self._many(self.sql["release"], self.releases)
            seqs = self._reserve(len(self.changes))
            for accepted in self.unflushed:
                accepted.seq = seqs[accepted.change]
            if self.unflushed:
                self._many(self.sql["insert"], [self._ledger_row(a) for a in self.unflushed])
            insert_log(conn, self.changes, seqs, self.now)
            announce(conn, seqs[-1], self.changes)
        self.unflushed, self.changes, self.releases = [], [], []
        self.added.clear()  # written: later runs read these contacts with the stored history


def _has_nul(item: PushItem, body: bytes) -> bool:
    """Whether a NUL character is anywhere in the item (``body``: its :func:`item_body`).

    The encoded body escapes every NUL as ``\\u0000``: without that text there is none (the
    text can also be an escaped backslash followed by ``u0000``, so then the item is walked).
    """
    if "\x00" in item.id:
        return True
    if b"\\u0000" not in body:
        return False
    return _nul(item.kind) or _nul(item.payload) or _nul(item.claim_id)


def _nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul(k) or _nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul(v) for v in value)
    return False


def _may_record(principal: Principal) -> None:
    if not principal.contacts_customers:
        raise Reject("forbidden", "Your role does not record contacts.")


def _reuse(item_id: str) -> Reject:
    details = {"id": item_id}
    return Reject("idempotency_key_reuse", "This id was already used for another item.", details)


def _claim(customer_id: str, row: tuple[Any, ...]) -> Claim:
    claim_id, holder, channel, fence, lease_until, purpose, acquired_at = row
    return Claim(
        claim_id=claim_id,
        customer_id=customer_id,
        holder_id=holder,
        channel=Channel(channel),
        fence=fence,
        lease_until=_utc(lease_until),
        purpose=purpose,
        holder_name=holder,
        acquired_at=_utc(acquired_at),
    )


def _utc(value: datetime | str) -> datetime:
    """A stored timestamp as aware UTC (SQLite hands back SQLAlchemy's text form)."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _parse(fields: dict[str, str], name: str, fn: Callable[[str], object], value: str) -> None:
    """Note in ``fields`` when ``value`` does not parse with ``fn``."""
    try:
        fn(value)
    except (ValueError, TypeError):
        fields[name] = f"invalid value {value!r}"


def _contact_of(p: ContactPayload, item: PushItem, staff_id: str, customer_id: str) -> Contact:
    if p.contact_id == item.id:  # a valid payload in one go; any fault: _payload_faults says which
        try:
            return _build_contact(p, item, staff_id, customer_id)
        except (ValueError, TypeError):
            pass
    fields = _payload_faults(p)
    if p.contact_id != item.id:
        fields["contact_id"] = "must equal the item id"
    if fields:
        raise Reject("invalid_payload", "The contact payload is invalid.", {"fields": fields})
    return _build_contact(p, item, staff_id, customer_id)  # the domain's own error, if any


def _build_contact(p: ContactPayload, item: PushItem, staff_id: str, customer_id: str) -> Contact:
    return Contact(
        contact_id=item.id,
        customer_id=customer_id,
        staff_id=staff_id,
        campaign_id=p.campaign_id,
        opportunity_id=p.opportunity_id,
        note=p.note,
        reactions=tuple(
            OfferReaction(
                offer_id=r.offer_id,
                reaction=Reaction(r.reaction),
                campaign_id=r.campaign_id,
            )
            for r in p.reactions
        ),
        channel=Channel(p.channel),
        result_code=ResultCode(p.result_code),
        started_at=parse_ts(p.started_at),
        ended_at=parse_ts(p.ended_at),
        next_appointment_at=parse_ts(p.next_appointment_at) if p.next_appointment_at else None,
    )


def _payload_faults(p: ContactPayload) -> dict[str, str]:
    """What is wrong with each field of ``p`` that does not parse (field path -> reason)."""
    fields: dict[str, str] = {}
    _parse(fields, "channel", Channel, p.channel)
    _parse(fields, "result_code", ResultCode, p.result_code)
    _parse(fields, "started_at", parse_ts, p.started_at)
    _parse(fields, "ended_at", parse_ts, p.ended_at)
    if p.next_appointment_at:
        _parse(fields, "next_appointment_at", parse_ts, p.next_appointment_at)
    for i, r in enumerate(p.reactions):
        _parse(fields, f"reactions[{i}].reaction", Reaction, r.reaction)
    return fields


def _result(item_id: str, violations: list[Violation], now: datetime) -> PushResult:
    if not violations:
        return PushResult(id=item_id, status="applied")
    conflict = conflict_of(violations, now)
    return PushResult(id=item_id, status="applied_with_conflict", conflict=conflict)


def conflict_of(violations: list[Violation], now: datetime) -> Conflict:
    """The structured conflict of a contact that broke policy (the first violation leads)."""
    first = violations[0]
    other = ConflictOther(
        channel=first.other_channel.value if first.other_channel else None,
        agent_id=first.other_agent_id,
        claim_until=iso(first.claim_until),
        contact_ids=list(first.other_contact_ids),
    )
    reasons = [
        Reason(
            code=v.type,
            rule_id=v.rule_id,
            detail={"limit": v.limit, "count_after": v.count_after, **v.detail},
        )
        for v in violations
    ]
    return Conflict(
        type=first.type,
        rule_id=first.rule_id,
        limit=first.limit or None,
        count_after=first.count_after,
        other=other,
        server_time=iso(now),
        reasons=reasons,
    )
