"""Bulk upsert of customer batches on the raw driver connection (COPY on PostgreSQL).

One transaction per batch:

1. the stored rows of the batch's keys are read (as JSON text, parsed with orjson);
2. every record is prepared (:mod:`agentdesk_sync.importers.customers`); equal rows are
   ``unchanged`` and write nothing; a value longer than its table column is rejected;
3. on PostgreSQL each written customer is encoded once, as a line of ``COPY`` text holding its
   table columns and its JSON row (stored as ``json``: checked, not parsed, migration 0003).
   Customers the store already holds are first copied into a temporary staging table (no WAL).
   Only then are the change numbers reserved (the sequencer row lock, held until commit, keeps
   sequence order equal to commit order); new customers are copied straight into ``customer``
   (in a savepoint: should another writer have inserted one of them meanwhile, the copy fails
   and they join the staged ones), the staged ones move with ``INSERT … ON CONFLICT DO UPDATE
   … WHERE the row differs``, and the ``change_log`` rows follow with one more ``COPY``; each
   customer's ``row_seq`` is its newest change number;
4. on SQLite the numbers are reserved the same way and the rows written with two
   ``executemany`` statements.

Merged-away ids (``agentdesk-sync merge``): a record whose key has a ``customer_redirect``
(followed to the end of its chain) is applied to the kept customer the way the merge applied the
merged-away one: the kept customer's values stay, the record fills the attributes it lacks (and
extra attributes it lacks), and a mobile number it does not know yet joins its
``previous_numbers``. Such records are counted in ``redirected`` (besides ``updated`` or
``unchanged``); no row is ever written under the merged-away id. On SQLite the whole batch is
read under its write lock. On PostgreSQL the batch is read before the sequencer lock, so the
writer checks, once it holds the lock, whether a merge committed since the read (a ``redirect``
change numbered after the sequencer value read first) that touches one of the batch's ids; if
one did, the batch is read and prepared again under the lock (where no merge can commit) and
that is what is written. Within one import that check is usually free: the pipeline keeps a
:class:`Chain` of the change numbers its own batches committed, and when the sequencer value
found under the lock is the end of that chain and the chain covers everything since the read,
no other writer (so no merge) committed in between and the change log is not read.

The change-log rows are reference entries: entity, key, region and number but no copy of the
row (``row`` is NULL); the pull sends the customer's current row for them (docs/sync.md). Copying
every row into the log doubled what a big import wrote.

A dry run does all of it and rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson

from agentdesk_sync.db.changes import LOCK_SEQUENCER, sqlite_ts
from agentdesk_sync.db.models import Customer
from agentdesk_sync.db.redirects import follow_redirects
from agentdesk_sync.importers.batch import BatchResult, Reject
from agentdesk_sync.importers.customers import CustomerPlan, plan_for
from agentdesk_sync.importers.fields import FieldError
from agentdesk_sync.importers.kinds import Prepared, key_of
from agentdesk_sync.importers.mapping import Mapping
from agentdesk_sync.importers.reader import Record
from agentdesk_sync.importers.rowtext import NewRows, new_rows

__all__ = [
    "Chain",
    "Staged",
    "record_keys",
    "redirects_of",
    "sequencer_value",
    "stage_batch",
    "upsert_customers",
    "write_staged",
]

Row = dict[str, Any]
_COLS = ("customer_id", "msisdn", "name", "id_type", "id_number", "region_code", "segment_id",
         "account_manager_id", "contact_address", "row", "row_seq", "updated_at")  # fmt: skip
_LOG_COLS = ("server_seq", "entity", "entity_id", "op", "region_code", "customer_id", "row",
             "created_at")  # fmt: skip
_TEXT_COLS = _COLS[1:9]
_LIMITS = tuple(
    (c, int(Customer.__table__.c[c].type.length))  # type: ignore[attr-defined]
    for c in _TEXT_COLS
)
_RESERVE = "UPDATE sequencer SET value = value + {n} WHERE name = 'change' RETURNING value"
_STAGE = "import_customer_stage"
_UNIQUE_VIOLATION = "23505"
# the line of a written customer: its table columns, then the number (its row_seq in
# ``customer``, its position in the batch in the staging table)
_LINE_COLS = ", ".join(_COLS[:9]) + ", updated_at, row"
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (customer_id text, msisdn text, name text,"
    " id_type text, id_number text, region_code text, segment_id text,"
    " account_manager_id text, contact_address text, updated_at timestamptz, row json,"
    " ord integer) ON COMMIT DELETE ROWS"
)
_COPY_CUSTOMER = f"COPY customer ({_LINE_COLS}, row_seq) FROM STDIN"
_COPY_STAGE = f"COPY {_STAGE} ({_LINE_COLS}, ord) FROM STDIN"
_COPY_LOG = f"COPY change_log ({', '.join(_LOG_COLS)}) FROM STDIN"
_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLS[1:])
# json has no equality: compare the text (rows are written by orjson, so equal rows are equal
# text; at worst an equal row written by another path is written once more)
_PG_UPSERT = (
    f"INSERT INTO customer ({_LINE_COLS}, row_seq) SELECT {_LINE_COLS}, %(base)s + ord"
    f" FROM {_STAGE} ON CONFLICT (customer_id) DO UPDATE SET {_SET}"
    " WHERE customer.row::text IS DISTINCT FROM EXCLUDED.row::text"
)
_SET_SQLITE = ", ".join(f"{c} = excluded.{c}" for c in _COLS[1:])
_SQLITE_UPSERT = (
    f"INSERT INTO customer ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))})"
    f" ON CONFLICT (customer_id) DO UPDATE SET {_SET_SQLITE}"
)
_SQLITE_LOG = f"INSERT INTO change_log ({', '.join(_LOG_COLS)}) VALUES ({', '.join('?' * 8)})"
_SEQUENCER = "SELECT value FROM sequencer WHERE name = 'change'"
_REDIRECTS_PG = "SELECT old_id, new_id FROM customer_redirect WHERE old_id = ANY(%s::text[])"
# the merges committed since a batch was read: their ``redirect`` changes (id = the merged-away
# customer, customer = the kept one). The upper bound (the sequencer value under the lock: no
# change above it exists) keeps the plan a range scan of the primary key even when the table's
# statistics are stale (a first load: a one-sided range on a table analyzed while nearly empty
# was planned as a scan of the whole change log, under the lock, once per batch)
_MERGED_SINCE = (
    "SELECT entity_id, customer_id FROM change_log"
    " WHERE server_seq > %s AND server_seq <= %s AND entity = 'redirect'"
)
_EMPTY: tuple[Any, ...] = (None, "", [], {})


def _reject(record: Record, mapping: Mapping, exc: FieldError) -> Reject:
    column = exc.field
    value = record.values.get(column, record.values.get(mapping.source_of(column), ""))
    return Reject(record.line, column, "" if value is None else str(value), exc.reason)


def _check_lengths(prepared: Prepared, mapping: Mapping) -> None:
    """Reject a value longer than its table column (PostgreSQL would fail the whole batch)."""
    columns = prepared.columns
    for name, limit in _LIMITS:
        value = columns[name]
        if value is not None and len(value) > limit:
            raise FieldError(mapping.source_of(name), f"longer than {limit} characters")


def _pg_array(keys: list[str]) -> str:
    """``keys`` as a PostgreSQL text array literal (one string: far cheaper to send than a
    list the driver adapts item by item)."""
    quoted = (k.replace("\\", "\\\\").replace('"', '\\"') for k in keys)
    return '{"' + '","'.join(quoted) + '"}'


def _stored_texts(cur: Any, keys: list[str]) -> dict[str, bytes]:
    """The stored rows of ``keys`` as their JSON text (PostgreSQL: ``json`` keeps the text)."""
    if not keys:
        return {}
    cur.execute(
        "SELECT customer_id, row::text FROM customer WHERE customer_id = ANY(%s::text[])",
        (_pg_array(keys),),
    )
    return {k: r.encode() for k, r in cur.fetchall()}


def _existing(cur: Any, dialect: str, keys: list[str]) -> dict[str, Row]:
    if not keys:
        return {}
    if dialect == "postgresql":
        return {k: orjson.loads(r) for k, r in _stored_texts(cur, keys).items()}
    found: dict[str, Row] = {}
    for start in range(0, len(keys), 900):
        part = keys[start : start + 900]
        marks = ",".join("?" * len(part))
        cur.execute(f"SELECT customer_id, row FROM customer WHERE customer_id IN ({marks})", part)
        found.update((k, orjson.loads(r)) for k, r in cur.fetchall())
    return found


def sequencer_value(cur: Any) -> int:
    """The change sequencer's committed value (read before a batch's rows: every change
    committed after this read has a larger number)."""
    cur.execute(_SEQUENCER)
    return int(cur.fetchone()[0])


def redirects_of(cur: Any, dialect: str, keys: list[str]) -> dict[str, str]:
    """The kept customer id of every merged-away id among ``keys`` (redirect chains followed)."""

    def fetch(pending: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        if dialect == "postgresql":
            cur.execute(_REDIRECTS_PG, (_pg_array(pending),))
            found.update(cur.fetchall())
            return found
        for start in range(0, len(pending), 900):
            part = pending[start : start + 900]
            marks = ",".join("?" * len(part))
            cur.execute(
                f"SELECT old_id, new_id FROM customer_redirect WHERE old_id IN ({marks})", part
            )
            found.update(cur.fetchall())
        return found

    return follow_redirects(fetch, keys)


_KEPT_COLUMNS = ("msisdn", "name", "id_type", "id_number", "region_code", "segment_id",
                 "account_manager_id", "contact_address")  # fmt: skip


def _fill(target: Row, given: Row) -> None:
    """Fill the empty values of ``target`` from ``given`` (the merge's rule)."""
    for name, value in given.items():
        if target.get(name) in _EMPTY and value not in _EMPTY:
            target[name] = value


def _onto_kept(prepared: Prepared, kept_row: Row | None, kept: str, mapping: Mapping) -> Prepared:
    """A record of a merged-away customer applied to the kept one, as the merge applied the
    merged-away customer: the kept values stay, the record fills what the kept customer lacks,
    and its mobile number joins ``previous_numbers`` (``prepared`` is the record overlaid on
    the kept customer's row).

    Raises:
        FieldError: The kept customer is not stored (it cannot be: a merge keeps it).
    """
    if kept_row is None:
        raise FieldError(mapping.source_of("customer_id"), f"merged into {kept}, which is gone")
    given = prepared.row["attributes"]
    attrs = dict(kept_row["attributes"])
    _fill(attrs, {k: v for k, v in given.items() if k != "extra"})
    extra = dict(attrs.get("extra") or {})
    _fill(extra, given.get("extra") or {})
    attrs["extra"] = extra
    previous = list(attrs.get("previous_numbers") or [])
    msisdn = given.get("msisdn")
    if msisdn and msisdn not in (attrs.get("msisdn"), *previous):
        attrs["previous_numbers"] = [*previous, msisdn]
    columns = {name: attrs.get(name) for name in _KEPT_COLUMNS}
    return Prepared(kept, {**kept_row, "attributes": attrs}, kept, columns)


def _classify(
    records: list[Record], keyed: list[str], mapping: Mapping,
    plans: dict[tuple[str, ...], CustomerPlan], existing: dict[str, Row], result: BatchResult,
    stored: set[str] | None = None, seen_new: set[str] | None = None,
    seen_changed: set[str] | None = None, redirects: dict[str, str] | None = None,
) -> Iterator[Prepared]:  # fmt: skip
    """Prepared records that change something, in file order (a key may repeat).

    ``stored`` (the keys the store held before the batch), ``seen_new`` and ``seen_changed``
    are shared by the calls for one batch when it is classified piecemeal. A record whose key
    is in ``redirects`` is applied to the kept customer (:func:`_onto_kept`).
    """
    stored = set(existing) if stored is None else stored
    seen_new = set() if seen_new is None else seen_new
    seen_changed = set() if seen_changed is None else seen_changed
    for record, key in zip(records, keyed, strict=True):
        values = record.values
        kept = redirects.get(key) if redirects else None
        try:
            before = existing.get(key if kept is None else kept)
            prepared = plan_for(plans, values, mapping).prepare(values, before)
            _check_lengths(prepared, mapping)
            if kept is not None:
                prepared = _onto_kept(prepared, before, kept, mapping)
        except FieldError as exc:
            result.rejects.append(_reject(record, mapping, exc))
            continue
        result.redirected += kept is not None
        key = prepared.key
        if existing.get(key) == prepared.row:
            result.unchanged += 1
            continue
        if key in seen_new:
            pass  # the same new record again: later line wins
        elif key in stored:
            result.updated += key not in seen_changed
            seen_changed.add(key)
        else:
            seen_new.add(key)
            result.imported += 1
        existing[key] = prepared.row
        yield prepared


def _sqlite_tuples(
    written: list[Prepared], seqs: range, now: str
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Customer tuples (the last one per key) and change-log tuples, sharing the JSON text."""
    customers: dict[str, tuple[Any, ...]] = {}
    log = []
    for prepared, seq in zip(written, seqs, strict=True):
        text = orjson.dumps(prepared.row).decode()
        c = prepared.columns
        customers[prepared.key] = (
            prepared.key, c["msisdn"], c["name"], c["id_type"], c["id_number"],
            c["region_code"], c["segment_id"], c["account_manager_id"], c["contact_address"],
            text, seq, now,
        )  # fmt: skip
        log.append((seq, "customer", prepared.key, "put", c["region_code"], prepared.key,
                    None, now))  # fmt: skip  # a reference entry (docs/sync.md)
    return list(customers.values()), log


def _reserve(cur: Any, count: int) -> range:
    cur.execute(_RESERVE.format(n=int(count)))
    last = int(cur.fetchone()[0])
    return range(last - count + 1, last + 1)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str | None) -> str:
    """A text value in ``COPY``'s text format (``\\N`` for NULL)."""
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.translate(_COPY_ESCAPES)
    return value


def _copy_fields(values: list[str | None]) -> str:
    """``values`` as tab-separated ``COPY`` text fields."""
    nulls = values.count(None)
    present = ["\0" if v is None else v for v in values] if nulls else cast(list[str], values)
    text = "\t".join(present)
    if (
        text.count("\t") != len(values) - 1
        or "\\" in text
        or "\n" in text
        or "\r" in text
        or text.count("\0") != nulls
    ):  # rare: a value that needs escaping (or holds a NUL: PostgreSQL refuses it as before)
        return "\t".join([_copy_text(v) for v in values])
    return text.replace("\0", "\\N") if nulls else text


@dataclass(frozen=True, slots=True)
class Staged:
    """A PostgreSQL batch prepared on the reading connection, ready for :func:`write_staged`.

    ``new`` and ``stored`` are ``COPY`` lines of the customers to write (the last record of
    each key), each without its final number; ``new_ords`` and ``stored_ords`` their positions
    among the written records; ``log`` the tail of every written record's change-log line
    (after its number). ``keys`` are the batch's keys and the kept ids its merged-away keys
    lead to. ``watermark`` is the sequencer value read before the batch's rows, and
    ``restage`` prepares the batch again on a cursor that holds the sequencer lock (None when
    the batch was read under it already).
    """

    result: BatchResult
    count: int
    keys: frozenset[str]
    new: list[bytes] = field(default_factory=list)
    new_ords: list[int] = field(default_factory=list)
    stored: list[bytes] = field(default_factory=list)
    stored_ords: list[int] = field(default_factory=list)
    log: list[bytes] = field(default_factory=list)
    watermark: int = 0
    restage: Callable[[Any], Staged] | None = None


def _fast_rows(
    record: Record, plans: dict[tuple[str, ...], CustomerPlan], mapping: Mapping
) -> NewRows | None:
    """The :class:`NewRows` of a CSV record's header (None: the plan's own path), kept with
    the header's plan for the whole import (the caller asks again only when the header
    changes)."""
    header = record.header
    if header is None:
        return None
    keys = dict.fromkeys(header)
    keys.setdefault("line")
    plan = plan_for(plans, keys, mapping)
    named = tuple(header)
    if named not in plan.new_rows:
        plan.new_rows[named] = new_rows(plan, header, _LIMITS)
    rows: NewRows | None = plan.new_rows[named]
    return rows


def _encode(
    records: list[Record], keyed: list[str], mapping: Mapping,
    plans: dict[tuple[str, ...], CustomerPlan], existing: dict[str, Row], result: BatchResult,
    now: datetime, texts: dict[str, bytes] | None = None,
    redirects: dict[str, str] | None = None,
) -> tuple[int, dict[str, tuple[int, bytes]], list[bytes]]:  # fmt: skip
    """The ``COPY`` lines of the records that change something: the number of them, the
    customer line and position of the last record of each key, and the change-log tails.

    ``texts`` are stored rows not parsed yet (their JSON text, by key; parsed into
    ``existing`` when a record needs them). A new customer from a CSV file is encoded straight
    from its fields (:mod:`agentdesk_sync.importers.rowtext`), and a stored one whose text is
    what that encoding gives is unchanged; any other record is prepared by its plan
    (:func:`_classify`) and encoded as soon as it is (while its row is still in the processor's
    cache). JSON text has no raw tab or line break (orjson escapes them), so only its
    backslashes need doubling for PostgreSQL's text format. A record of a merged-away id
    (``redirects``) always takes the plan's path, onto the kept customer.
    """
    texts = {} if texts is None else texts
    redirects = {} if redirects is None else redirects
    stamp = now.isoformat().encode()
    log_tail = b"\tcustomer\t%s\tput\t%s\t%s\t\\N\t" + stamp + b"\n"
    dumps = orjson.dumps
    lines: dict[str, tuple[int, bytes]] = {}
    log: list[bytes] = []
    count = 0
    fresh: dict[str, bytes] = {}  # the row JSON of the customers written from their fields
    rest: list[Record] = []
    rest_keys: list[str] = []
    stored = set(existing) | set(texts)
    seen_new: set[str] = set()
    seen_changed: set[str] = set()
    header: list[str] | None = None
    rows: NewRows | None = None
    for record, key in zip(records, keyed, strict=True):
        fields = record.fields
        kept = redirects.get(key)
        if kept is not None:  # rare: the kept customer's stored row is parsed
            if kept in texts:
                existing[kept] = orjson.loads(texts.pop(kept))
        elif key in fresh:  # the same new customer again: overlay the row written before
            existing[key] = orjson.loads(fresh.pop(key))
        elif fields is not None and (key in texts or key not in existing):
            if record.header is not header:
                header = record.header
                rows = _fast_rows(record, plans, mapping)
            encoded = rows.encode(fields, stamp) if rows is not None else None
            if key in texts:
                # a stored customer whose text is the row this record would write as a new
                # customer: overlaying the record on it changes nothing (no parse needed)
                if encoded is not None and encoded[4] == texts[key]:
                    result.unchanged += 1
                    continue
            elif encoded is not None:
                key, line, k, region, row = encoded
                fresh[key] = row
                seen_new.add(key)
                result.imported += 1
                log.append(log_tail % (k, region, k))
                lines[key] = (count, line)
                count += 1
                continue
        if key in texts:
            existing[key] = orjson.loads(texts.pop(key))
        rest.append(record)
        rest_keys.append(key)
        for prepared in _classify(rest, rest_keys, mapping, plans, existing, result, stored,
                                  seen_new, seen_changed, redirects):  # fmt: skip
            key = prepared.key
            c = prepared.columns
            k = _copy_text(key).encode()
            log.append(log_tail % (k, _copy_text(c["region_code"]).encode(), k))
            fields_text = _copy_fields([key, *[c[n] for n in _TEXT_COLS], stamp.decode()])
            row = dumps(prepared.row).replace(b"\\", b"\\\\")
            lines[key] = (count, b"%s\t%s\t" % (fields_text.encode(), row))
            count += 1
        rest.clear()
        rest_keys.clear()
    return count, lines, log


def record_keys(records: list[Record], mapping: Mapping) -> list[str]:
    """The customer key of every record (empty for a record that lacks one)."""
    source = mapping.source_of("customer_id")
    if "customer_id" in mapping.defaults:
        return [key_of("customers", r.values, mapping) for r in records]
    keys = []
    header: list[str] | None = None
    at: int | None = None
    for record in records:
        fields = record.fields
        if fields is not None:
            if record.header is not header:
                header = record.header or []
                at = max((i for i, h in enumerate(header) if h == source), default=None)
            if at is None or source == "line":
                raw: Any = record.values.get(source)
            else:
                keys.append(fields[at].strip())
                continue
        else:
            raw = record.values.get(source)
        keys.append(raw.strip() if raw.__class__ is str else str(raw or "").strip())
    return keys


def stage_batch(
    cur: Any, records: list[Record], keyed: list[str], mapping: Mapping,
    plans: dict[tuple[str, ...], CustomerPlan], *, watermark: int | None = None,
    redirects: dict[str, str] | None = None, locked: bool = False,
) -> Staged:  # fmt: skip
    """Read the stored rows of a batch (on ``cur``), prepare and encode it.

    ``keyed`` is :func:`record_keys` of ``records``. ``watermark`` (:func:`sequencer_value`)
    and ``redirects`` (:func:`redirects_of` the keys) are read here unless the caller read them
    first, in that order; ``locked``: ``cur`` holds the sequencer lock (nothing to check later).
    """
    result = BatchResult()
    if watermark is None:
        watermark = 0 if locked else sequencer_value(cur)
    if redirects is None:
        redirects = redirects_of(cur, "postgresql", keyed)
    keys = frozenset(keyed) - {""}
    texts = _stored_texts(cur, sorted((keys - redirects.keys()) | set(redirects.values())))
    stored = set(texts)
    count, lines, log = _encode(records, keyed, mapping, plans, {}, result, datetime.now(UTC),
                                texts, redirects)  # fmt: skip

    def restage(locked_cur: Any) -> Staged:
        return stage_batch(locked_cur, records, keyed, mapping, {}, locked=True)

    keys = keys | frozenset(redirects.values())
    staged = Staged(result, count, keys, log=log, watermark=watermark,
                    restage=None if locked else restage)  # fmt: skip
    for key, (ord_, line) in lines.items():
        if key in stored:
            staged.stored.append(line)
            staged.stored_ords.append(ord_)
        else:
            staged.new.append(line)
            staged.new_ords.append(ord_)
    return staged


def _numbered(lines: list[bytes], ords: list[int], base: int) -> bytes:
    """The ``lines`` with their numbers (``base`` + position) and line breaks appended."""
    parts: list[bytes] = [b""] * (2 * len(lines))
    parts[::2] = lines
    parts[1::2] = [b"%d\n" % (base + o) for o in ords]
    return b"".join(parts)


def _copy_stored(cur: Any, staged: Staged) -> None:
    """Copy the batch's stored customers into the (emptied) staging table."""
    cur.execute(_CREATE_STAGE)
    with cur.copy(_COPY_STAGE) as copy:
        copy.write(_numbered(staged.stored, staged.stored_ords, 0))


@dataclass(slots=True)
class Chain:
    """The change numbers one import's own batches committed, as one unbroken run: every
    number in ``(start, end]`` is this import's (None: no batch committed yet). Updated by a
    batch's writer after its commit and read by the next batch's writer once that commit is
    done (the pipeline's ``ready``), so the writer threads never touch it at the same time."""

    start: int | None = None
    end: int | None = None

    def committed(self, seqs: range) -> None:
        """Record a batch's numbers (its commit is done)."""
        if not seqs:
            return
        if self.end is None or self.start is None or seqs.start - 1 != self.end:
            self.start = seqs.start - 1  # another writer's change came in between: start again
        self.end = seqs.stop - 1

    def alone_since(self, watermark: int, current: int) -> bool:
        """Whether every change committed after ``watermark`` up to the sequencer's
        ``current`` value (read under its lock) is this import's own."""
        if current == watermark:
            return True
        return self.start is not None and self.start <= watermark and self.end == current


def _merged_since(cur: Any, staged: Staged, current: int, chain: Chain | None = None) -> bool:
    """Whether a merge that touches the batch's ids committed after the batch was read (the
    caller holds the sequencer lock, so none can commit now). ``current`` is the sequencer
    value read under the lock: when nothing but ``chain`` (this import's own batches)
    committed since the read, no merge did and the change log is not read."""
    if current == staged.watermark or (
        chain is not None and chain.alone_since(staged.watermark, current)
    ):
        return False
    cur.execute(_MERGED_SINCE, (staged.watermark, current))
    return any(old in staged.keys or kept in staged.keys for old, kept in cur.fetchall())


def _write_pg(
    driver: Any, cur: Any, staged: Staged, ready: Callable[[], object] | None = None,
    chain: Chain | None = None,
) -> tuple[Staged, range]:  # fmt: skip
    """Stage the stored customers, take the sequencer lock, check for merges since the batch
    was read, take the change numbers, copy the new customers in, move the staged ones, append
    the change-log rows. Returns the batch as written (prepared again under the lock when a
    merge came in between) and the change numbers it took.

    The sequencer lock (held until commit) is taken after the staging copy and before any
    customer row is written. New customers are copied in a savepoint: should another writer
    have inserted one of them meanwhile, that copy fails and they are staged and upserted too.
    """
    if staged.stored:
        _copy_stored(cur, staged)
    if ready is not None:
        ready()
    cur.execute(LOCK_SEQUENCER)
    current = int(cur.fetchone()[0])
    if staged.restage is not None and _merged_since(cur, staged, current, chain):
        staged = staged.restage(cur)
        cur.execute(_CREATE_STAGE)
        cur.execute(f"DELETE FROM {_STAGE}")  # the first reading's rows
        if staged.stored:
            _copy_stored(cur, staged)
        if not staged.count:
            return staged, range(0)
    seqs = _reserve(cur, staged.count)
    base = seqs.start
    if staged.new:
        try:
            with driver.transaction(), cur.copy(_COPY_CUSTOMER) as copy:
                copy.write(_numbered(staged.new, staged.new_ords, base))
        except Exception as exc:  # psycopg's UniqueViolation, without importing the driver
            if getattr(exc, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise
            cur.execute(_CREATE_STAGE)
            with cur.copy(_COPY_STAGE) as copy:
                copy.write(_numbered(staged.new, staged.new_ords, 0))
            upsert = True
        else:
            upsert = bool(staged.stored)
    else:
        upsert = bool(staged.stored)
    if upsert:
        cur.execute(_PG_UPSERT, {"base": base})
    with cur.copy(_COPY_LOG) as copy:
        parts: list[bytes] = [b""] * (2 * len(staged.log))
        parts[::2] = [b"%d" % n for n in range(base, base + len(staged.log))]
        parts[1::2] = staged.log
        copy.write(b"".join(parts))
    return staged, seqs


def _write_sqlite(cur: Any, customers: list[tuple[Any, ...]], log: list[tuple[Any, ...]]) -> None:
    cur.executemany(_SQLITE_UPSERT, customers)
    cur.executemany(_SQLITE_LOG, log)


def upsert_customers(
    driver: Any, dialect: str, records: list[Record], mapping: Mapping,
    plans: dict[tuple[str, ...], CustomerPlan], *, dry_run: bool = False,
) -> BatchResult:  # fmt: skip
    """Import one batch of customer records in one transaction on ``driver``.

    Args:
        driver: The DB-API connection (sqlite3 in autocommit mode, or psycopg).
        dialect: ``"sqlite"`` or ``"postgresql"``.
        records: The batch, in file order.
        mapping: The import mapping.
        plans: Plan cache shared by the batches of one import.
        dry_run: Roll the transaction back instead of committing.

    Returns:
        The batch's counts and rejects.
    """
    keyed = record_keys(records, mapping)
    if dialect == "postgresql":  # psycopg: the first statement opens the transaction
        with driver.cursor() as cur:
            staged = stage_batch(cur, records, keyed, mapping, plans)
        return write_staged(driver, staged, dry_run=dry_run)
    result = BatchResult()
    cur = driver.cursor()
    try:
        cur.execute("BEGIN IMMEDIATE")
        try:
            redirects = redirects_of(cur, dialect, keyed)
            keys = (set(keyed) - {""} - redirects.keys()) | set(redirects.values())
            existing = _existing(cur, dialect, sorted(keys))
            written = list(_classify(records, keyed, mapping, plans, existing, result,
                                     redirects=redirects))  # fmt: skip
            if written:
                seqs = _reserve(cur, len(written))
                customers, log = _sqlite_tuples(written, seqs, sqlite_ts(datetime.now(UTC)))
                _write_sqlite(cur, customers, log)
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("ROLLBACK" if dry_run else "COMMIT")
    finally:
        cur.close()
    return result


def write_staged(
    driver: Any, staged: Staged, *, dry_run: bool = False,
    ready: Callable[[], object] | None = None, chain: Chain | None = None,
) -> BatchResult:  # fmt: skip
    """Write a staged batch in one transaction on ``driver`` (another connection than the
    reader's, so the next batch can be prepared meanwhile); the batch's counts and rejects as
    written (they differ from ``staged.result`` when a merge came in between and the batch was
    prepared again).

    ``ready`` is called after the stored customers are staged and before the sequencer lock is
    taken: it returns once the batch before this one has committed (it raises if that one
    failed), so batches take their numbers in file order even while two of them are in flight.
    ``chain`` (shared by the batches of one import) spares the merge check's read of the change
    log when only this import's batches committed since the batch was read; a committed batch
    adds its numbers to it.
    """
    if not staged.count:
        if ready is not None:
            ready()
        return staged.result
    with driver.cursor() as cur:
        try:
            staged, seqs = _write_pg(driver, cur, staged, ready, chain)
        except BaseException:
            driver.rollback()
            raise
    if dry_run:
        driver.rollback()
    else:
        driver.commit()
        if chain is not None:
            chain.committed(seqs)
    return staged.result
