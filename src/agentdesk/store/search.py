"""Customer search on the local cache (bench/README.md rows P1, P2, P6).

What the user types decides how we search (:func:`parse_query`):

* digits: phone-number prefix (when they start with ``1``, up to 11), then ID-number prefix,
  then (4–8 digits) ID-number suffix; a trailing ``X``: ID-number suffix (18 characters: the
  whole ID number);
* ``C`` + digits: customer-id prefix;
* Chinese characters: the per-character FTS5 index, names that START with the characters
  first, then names that contain them;
* Latin letters: pinyin keys (full pinyin or initials, prefix match).

Prefixes are index RANGE scans (``msisdn >= :p AND msisdn < :p_next``), never ``LIKE 'p%'``
(a full scan: SQLite's LIKE is case-insensitive and cannot use a BINARY index). A suffix is a
range on the reversed ID column. Results come in index order, so a window of a large result is
``LIMIT/OFFSET`` on an index, never a sort of everything (:func:`fetch_window`).

The digit indexes (``ix_customer_msisdn``, ``ix_customer_id_number``, ``ix_customer_id_rev``)
hold every column of a hit (:data:`HIT_COLUMNS`), so a phone or ID-number search reads a few
neighbouring index pages and never the customer rows, whose pages lie all over the file (one
~2 KB JSON row a page). ``models.Customer`` builds its indexes from that list; migration 0004
keeps a copy of its own (a migration must not change when the code does).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from agentdesk.store.names import cjk_chars, is_cjk

__all__ = [
    "DEFAULT_COUNT_CAP",
    "HIT_COLUMNS",
    "CountInterrupted",
    "HitRow",
    "MatchCount",
    "SearchHit",
    "SearchPart",
    "SearchQuery",
    "count_matches",
    "fetch_rows",
    "fetch_window",
    "parse_query",
    "search",
]

DEFAULT_COUNT_CAP = 1000
_CANCEL_POLL_STEPS = 20_000  # SQLite VM steps between two looks at the cancel flag (~1 ms)

HIT_COLUMNS = (
    "customer_id", "name", "msisdn", "id_number", "region_code", "segment_id", "value_tier",
    "vip_level", "churn_level",
)  # fmt: skip
"""The columns of a hit, all in the digit indexes (``models.Customer``, migration 0004): a
digit search reads an index only."""
_HIT_COLUMNS = ", ".join(f"c.{column}" for column in HIT_COLUMNS)
HitRow = tuple[str, str, str, str, str, str, int, str, str]
"""One hit as a plain row: customer_id, name, msisdn, id_number, region_code, segment_id,
value_tier, vip_level, churn_level (the first fields of :class:`SearchHit`)."""
_ID_RE = re.compile(r"\d{0,17}[xX]")
_CUSTOMER_ID_RE = re.compile(r"[cC]\d+")


class CountInterrupted(Exception):
    """A count was abandoned because its ``cancel`` event was set (a newer search started)."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One row of a search result list (``matched`` says which part found it)."""

    customer_id: str
    name: str
    msisdn: str
    id_number: str
    region_code: str
    segment_id: str
    value_tier: int
    vip_level: str
    churn_level: str
    matched: str


@dataclass(frozen=True, slots=True)
class SearchPart:
    """One way of matching: ``source`` is the FROM/WHERE text, in index order by ``order``."""

    kind: str
    source: str
    params: tuple[Any, ...]
    order: str


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A classified query: its parts are searched in order, without duplicates."""

    text: str
    kind: str
    parts: tuple[SearchPart, ...]


@dataclass(frozen=True, slots=True)
class MatchCount:
    """How many rows match, capped; ``label`` is ``"1000+"`` when capped."""

    count: int
    capped: bool

    @property
    def label(self) -> str:
        """The count as the UI shows it."""
        return f"{self.count}+" if self.capped else str(self.count)


def _upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _range_part(kind: str, column: str, prefix: str, exclude: Sequence[SearchPart]) -> SearchPart:
    where = f"c.{column} >= ? AND c.{column} < ?"
    params: tuple[Any, ...] = (prefix, _upper_bound(prefix))
    for other in exclude:
        other_where = other.source.split(" WHERE ", 1)[1]
        where += f" AND NOT ({other_where})"
        params += other.params
    return SearchPart(kind, f"FROM customer c WHERE {where}", params, f"c.{column}")


def _fts_part(kind: str, match: str) -> SearchPart:
    source = "FROM customer_fts f JOIN customer c ON c.id = f.rowid WHERE customer_fts MATCH ?"
    return SearchPart(kind, source, (match,), "f.rowid")


def _digit_parts(digits: str) -> list[SearchPart]:
    parts: list[SearchPart] = []
    if digits.startswith("1") and len(digits) <= 11:
        parts.append(_range_part("phone", "msisdn", digits, parts))
    parts.append(_range_part("id_prefix", "id_number", digits, parts))
    if 4 <= len(digits) <= 8:
        parts.append(_range_part("id_suffix", "id_rev", digits[::-1], parts))
    return parts


def _name_parts(text: str) -> list[SearchPart]:
    chars = cjk_chars(text)
    phrase = '"' + " ".join(chars) + '"'
    head = '"' + "".join(chars) + '"'
    return [
        _fts_part("name", f"name_head : {head}"),
        _fts_part("name", f"name_chars : {phrase} NOT name_head : {head}"),
    ]


def parse_query(text: str) -> SearchQuery:
    """Classify what the user typed into the parts to search (see the module docstring)."""
    raw = text.strip()
    compact = re.sub(r"[\s\-]", "", raw)
    if not compact:
        part = SearchPart("all", "FROM customer c", (), "c.customer_id")
        return SearchQuery(raw, "all", (part,))
    if compact.isdigit():
        return SearchQuery(raw, "digits", tuple(_digit_parts(compact)))
    if _ID_RE.fullmatch(compact):
        ident = compact.upper()
        if len(ident) == 18:
            return SearchQuery(raw, "id", (_range_part("id_prefix", "id_number", ident, []),))
        suffix = _range_part("id_suffix", "id_rev", ident[::-1], [])
        return SearchQuery(raw, "id", (suffix,))
    if _CUSTOMER_ID_RE.fullmatch(compact):
        part = _range_part("customer_id", "customer_id", compact.upper(), [])
        return SearchQuery(raw, "customer_id", (part,))
    if any(is_cjk(ch) for ch in compact):
        return SearchQuery(raw, "name", tuple(_name_parts(compact)))
    letters = "".join(ch for ch in compact.lower() if ch.isascii() and ch.isalnum())
    if not letters:
        return SearchQuery(raw, "none", ())
    return SearchQuery(raw, "pinyin", (_fts_part("pinyin", f"name_pinyin : {letters}*"),))


def _as_query(query: SearchQuery | str) -> SearchQuery:
    return parse_query(query) if isinstance(query, str) else query


def _count_part(conn: sqlite3.Connection, part: SearchPart, cap: int | None) -> int:
    if cap is None:
        return int(conn.execute(f"SELECT count(*) {part.source}", part.params).fetchone()[0])
    sql = f"SELECT count(*) FROM (SELECT 1 {part.source} ORDER BY {part.order} LIMIT ?)"
    return int(conn.execute(sql, (*part.params, cap)).fetchone()[0])


@contextmanager
def _cancellable(conn: sqlite3.Connection, cancel: threading.Event | None) -> Iterator[None]:
    """Abort the statement running on ``conn`` soon after ``cancel`` is set."""
    if cancel is None:
        yield
        return
    if cancel.is_set():
        raise CountInterrupted
    conn.set_progress_handler(cancel.is_set, _CANCEL_POLL_STEPS)
    try:
        yield
    except sqlite3.OperationalError as exc:
        if cancel.is_set():
            raise CountInterrupted from exc
        raise
    finally:
        conn.set_progress_handler(None, 0)


def count_matches(
    conn: sqlite3.Connection,
    query: SearchQuery | str,
    cap: int | None = DEFAULT_COUNT_CAP,
    *,
    cancel: threading.Event | None = None,
) -> MatchCount:
    """How many customers match, counting at most ``cap`` (``None``: exact count).

    An exact count of a broad query reads a whole index (a million entries for "1"): the UI
    runs it off the path to the first screen, and abandons it with ``cancel`` when the user
    types on.

    Args:
        conn: a reader connection.
        query: a parsed query or the raw text.
        cap: stop counting after this many (the UI shows "1000+").
        cancel: when set (from any thread), the count stops within about a millisecond.

    Returns:
        The (capped) count.

    Raises:
        CountInterrupted: ``cancel`` was set before the count finished.
    """
    total = 0
    with _cancellable(conn, cancel):
        for part in _as_query(query).parts:
            left = None if cap is None else cap + 1 - total
            total += _count_part(conn, part, left)
            if cap is not None and total > cap:
                return MatchCount(cap, True)
    return MatchCount(total, False)


def _window_parts(
    conn: sqlite3.Connection, query: SearchQuery | str, start: int, size: int
) -> Iterator[tuple[SearchPart, list[HitRow]]]:
    """The rows of each part that fall in the window ``start`` … ``start + size - 1``."""
    for part in _as_query(query).parts:
        if size <= 0:
            break
        sql = f"SELECT {_HIT_COLUMNS} {part.source} ORDER BY {part.order} LIMIT ? OFFSET ?"
        rows: list[HitRow] = conn.execute(sql, (*part.params, size, start)).fetchall()
        if rows:
            yield part, rows
            size -= len(rows)
            start = 0
        elif start > 0:
            start -= _count_part(conn, part, start)


def fetch_rows(
    conn: sqlite3.Connection, query: SearchQuery | str, start: int, size: int
) -> list[HitRow]:
    """Like :func:`fetch_window`, as plain rows (:data:`HitRow`: no object per row).

    What search-as-you-type uses: the service turns each row into its own hit at once, so a
    :class:`SearchHit` in between would only cost time and garbage.
    """
    out: list[HitRow] = []
    for _part, rows in _window_parts(conn, query, start, size):
        out += rows
    return out


def fetch_window(
    conn: sqlite3.Connection, query: SearchQuery | str, start: int, size: int
) -> list[SearchHit]:
    """Rows ``start`` … ``start + size - 1`` of the result (for a windowed table model).

    Args:
        conn: a reader connection.
        query: a parsed query (parse once, page many times) or the raw text.
        start: index of the first row wanted.
        size: how many rows.

    Returns:
        Up to ``size`` hits, in the result's stable order.
    """
    return [
        SearchHit(*row, part.kind)
        for part, rows in _window_parts(conn, query, start, size)
        for row in rows
    ]


def search(
    conn: sqlite3.Connection, text: str, limit: int = 50, offset: int = 0
) -> list[SearchHit]:
    """Search customers by phone, ID number, customer id, Chinese name or pinyin.

    Args:
        conn: a reader connection (``CacheDB.reader()``).
        text: what the user typed.
        limit: the most hits to return.
        offset: hits to skip.

    Returns:
        The hits, best part first.
    """
    return fetch_window(conn, parse_query(text), offset, limit)
