"""Raw floors on SQLite: what plain ``sqlite3`` does on the floor data set, with no agentdesk code.

* phone prefix search: a range scan on the ``msisdn`` index (``>= p AND < p;``), LIMIT 50;
* name search: a per-character FTS5 phrase query joined to the customer row, LIMIT 50;
* open a customer: the customer row, its 50 latest contacts and its holdings;
* durable commit: contact row + outbox row, one transaction, WAL + ``synchronous=FULL``;
* bulk apply: ``executemany`` of JSON rows into a fresh file, one transaction per 10 000 rows;
* ledger transaction: insert + cap counter + change-log row, one commit (service floor).
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson

from bench.floordata import name_chars
from bench.measure import Stat, repeat

__all__ = [
    "bulk_apply_seconds",
    "connect_ro",
    "floor_commit",
    "floor_ledger_batch_rate",
    "floor_ledger_sqlite",
    "floor_name_search",
    "floor_open",
    "floor_phone_search",
    "floor_upsert_sqlite",
    "phone_prefix_query",
    "sample_customers",
]

PHONE_SQL = (
    "SELECT customer_id, name, msisdn FROM customer WHERE msisdn >= ? AND msisdn < ? "
    "ORDER BY msisdn LIMIT 50"
)
NAME_SQL = (
    "SELECT c.customer_id, c.name, c.msisdn FROM name_fts JOIN customer c ON c.id = name_fts.rowid "
    "WHERE name_fts MATCH ? LIMIT 50"
)


def connect_ro(path: Path) -> sqlite3.Connection:
    """A read-only connection to a SQLite file."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def sample_customers(con: sqlite3.Connection, k: int, seed: int) -> list[tuple[str, str, str]]:
    """``k`` random (customer_id, msisdn, name) triples from the floor data set."""
    (count,) = con.execute("SELECT max(id) FROM customer").fetchone()
    rng = random.Random(seed)
    ids = [rng.randrange(1, count + 1) for _ in range(k)]
    rows = []
    for rid in ids:
        rows.append(con.execute("SELECT customer_id, msisdn, name FROM customer WHERE id=?",
                                (rid,)).fetchone())  # fmt: skip
    return rows


def phone_prefix_query(prefix: str) -> tuple[str, str]:
    """Range bounds equivalent to ``msisdn LIKE prefix%`` that can use a BINARY index."""
    return prefix, prefix + "\uffff"


def floor_phone_search(con: sqlite3.Connection, prefixes: list[str], n: int) -> Stat:
    """Raw index range scan for a phone number prefix, LIMIT 50."""

    def one(i: int) -> None:
        con.execute(PHONE_SQL, phone_prefix_query(prefixes[i % len(prefixes)])).fetchall()

    return repeat(one, n)


def floor_name_search(con: sqlite3.Connection, names: list[str], n: int) -> Stat:
    """Raw per-character FTS5 phrase query for 1–3 Chinese characters, LIMIT 50."""
    queries = [f'"{name_chars(q)}"' for q in names]

    def one(i: int) -> None:
        con.execute(NAME_SQL, (queries[i % len(queries)],)).fetchall()

    return repeat(one, n)


def floor_open(con: sqlite3.Connection, ids: list[str], n: int) -> Stat:
    """Raw SQL of opening a customer: row, 50 latest contacts, holdings."""

    def one(i: int) -> None:
        cid = ids[i % len(ids)]
        con.execute("SELECT row FROM customer WHERE customer_id=?", (cid,)).fetchone()
        con.execute("SELECT row FROM contact WHERE customer_id=? ORDER BY started_at DESC LIMIT 50",
                    (cid,)).fetchall()  # fmt: skip
        con.execute("SELECT row FROM holding WHERE customer_id=?", (cid,)).fetchall()

    return repeat(one, n)


def floor_commit(path: Path, ids: list[str], n: int) -> Stat:
    """Raw durable commit of a contact row and its outbox row (WAL, synchronous=FULL)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    made: list[str] = []

    def one(i: int) -> None:
        cid = ids[i % len(ids)]
        mid = str(uuid.uuid4())
        payload = orjson.dumps({"contact_id": mid, "customer_id": cid, "result_code": "reached"})
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO contact(contact_id, customer_id, started_at, row) VALUES (?,?,?,?)",
            (mid, cid, "2026-11-26T10:00:00Z", payload),
        )
        con.execute("INSERT INTO outbox(id, kind, payload, state, created_at) VALUES (?,?,?,?,?)",
                    (mid, "contact", payload, "pending", "2026-11-26T10:00:00Z"))  # fmt: skip
        con.execute("COMMIT")
        made.append(mid)

    try:
        return repeat(one, n)
    finally:
        con.execute("BEGIN")
        con.executemany("DELETE FROM contact WHERE contact_id=?", [(m,) for m in made])
        con.executemany("DELETE FROM outbox WHERE id=?", [(m,) for m in made])
        con.execute("COMMIT")
        con.close()


def bulk_apply_seconds(folder: Path, rows: int) -> float:
    """Seconds to bulk-insert ``rows`` JSON rows (≈ a pull page stream) into a fresh file."""
    path = folder / "bulk-floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, key TEXT UNIQUE, row_seq INT, row TEXT)")
    template = {"customer_id": "", "name": "张伟", "msisdn": "13800000000", "region_code": "440100",
                "segment_id": "SS3", "contact_address": "广东省广州市天河区体育西路"}  # fmt: skip
    row = orjson.dumps(template).decode()
    pages = max(1, rows // 10_000)
    elapsed = 0.0
    for p in range(pages):  # each page made untimed just before it goes in (10 M rows: 4 GB)
        page = [(f"K{p * 10_000 + j:09d}", p, row) for j in range(10_000)]
        start = time.perf_counter()
        con.execute("BEGIN")
        con.executemany("INSERT INTO t(key, row_seq, row) VALUES (?,?,?)", page)
        con.execute("COMMIT")
        elapsed += time.perf_counter() - start
    con.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return elapsed * rows / (pages * 10_000)


def floor_ledger_sqlite(folder: Path, seconds: float, tick: Callable[[], None] | None) -> Stat:
    """Single-connection ledger transaction on SQLite (insert + cap counter + change log)."""
    path = folder / "ledger-floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.executescript(
        "CREATE TABLE contact(contact_id TEXT PRIMARY KEY, customer_id TEXT, row TEXT);"
        "CREATE TABLE cap(customer_id TEXT PRIMARY KEY, used INT);"
        "CREATE TABLE change_log(seq INTEGER PRIMARY KEY, entity_id TEXT, row TEXT);"
    )
    samples: list[float] = []
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        cid = f"C{i % 50_000:08d}"
        row = orjson.dumps({"customer_id": cid, "channel": "outbound_call"}).decode()
        start = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO contact VALUES (?,?,?)", (str(uuid.uuid4()), cid, row))
        con.execute("INSERT INTO cap VALUES (?,1) ON CONFLICT(customer_id) DO UPDATE "
                    "SET used = used + 1", (cid,))  # fmt: skip
        con.execute("INSERT INTO change_log(entity_id, row) VALUES (?,?)", (cid, row))
        con.execute("COMMIT")
        samples.append(time.perf_counter() - start)
        i += 1
        if tick is not None and i % 100 == 0:
            tick()
    con.close()
    from bench.measure import stat_of

    return stat_of(samples)


def floor_ledger_batch_rate(folder: Path, objects: int) -> float:
    """Contacts/s inserted raw into a SQLite ledger, 500 per durable transaction (UUID key)."""
    path = folder / "batch-floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE contact(contact_id TEXT PRIMARY KEY, customer_id TEXT, row TEXT)")
    con.execute("CREATE INDEX ix_c ON contact(customer_id)")
    batches = [
        [(str(uuid.uuid4()), f"C{(b + j) % 100_000:08d}",
          orjson.dumps({"channel": "outbound_call", "result_code": "reached"}).decode())
         for j in range(500)]
        for b in range(0, objects, 500)
    ]  # fmt: skip
    start = time.perf_counter()
    for batch in batches:
        con.execute("BEGIN IMMEDIATE")
        con.executemany("INSERT INTO contact VALUES (?,?,?)", batch)
        con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return len(batches) * 500 / elapsed


def floor_upsert_sqlite(folder: Path, agents: int, per_agent: int, customers: int) -> Stat:
    """Claim-style upsert latency on SQLite with ``agents`` threads, one connection each."""
    import threading

    from bench.measure import stat_of

    path = folder / "claim-floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE claim(customer_id TEXT PRIMARY KEY, holder TEXT, fence INT, "
                  "lease_until REAL)")  # fmt: skip
    setup.close()
    sql = ("INSERT INTO claim AS c VALUES (?, ?, 1, ?) ON CONFLICT(customer_id) DO UPDATE SET "
           "holder = excluded.holder, fence = c.fence + 1, lease_until = excluded.lease_until "
           "WHERE c.lease_until < ? OR c.holder = excluded.holder RETURNING fence")  # fmt: skip
    samples: list[float] = []
    lock = threading.Lock()

    def agent(k: int) -> None:
        con = sqlite3.connect(path, isolation_level=None, timeout=30)
        con.execute("PRAGMA synchronous=FULL")
        local = []
        for j in range(per_agent):
            cid = f"C{(k * 7919 + j * 104729) % customers + 1:08d}"
            now = time.time()
            start = time.perf_counter()
            con.execute("BEGIN IMMEDIATE")
            con.execute(sql, (cid, f"agent{k}", now + 900, now)).fetchall()
            con.execute("COMMIT")
            local.append(time.perf_counter() - start)
        con.close()
        with lock:
            samples.extend(local)

    threads = [threading.Thread(target=agent, args=(k,)) for k in range(agents)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return stat_of(samples)
