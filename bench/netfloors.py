"""Raw floors over the network: bare ``http.client`` round trips and raw psycopg transactions.

* loopback RTT: ``GET`` on the bare asyncio server over one keep-alive connection;
* HTTP+JSON transfer: batches of 500 contact objects POSTed as JSON and decoded with orjson;
* PostgreSQL claim upsert under N concurrent connections (``INSERT … ON CONFLICT DO UPDATE``);
* PostgreSQL ledger transaction on one connection (insert + cap counter + change log + commit).
"""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from collections.abc import Callable

import orjson

from bench.measure import Stat, repeat, stat_of

__all__ = [
    "contact_batch",
    "floor_http_json_rate",
    "floor_ledger_pg",
    "floor_rtt",
    "floor_upsert_pg",
]


def floor_rtt(port: int, n: int) -> Stat:
    """Bare ``http.client`` GET round trip on one keep-alive loopback connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def one(_: int) -> None:
        conn.request("GET", "/v1/health")
        conn.getresponse().read()

    try:
        return repeat(one, n)
    finally:
        conn.close()


def contact_batch(start: int, size: int) -> list[dict[str, object]]:
    """A batch of push items shaped like contact outcomes (for the transfer floor)."""
    return [
        {"id": str(uuid.uuid4()), "seq": start + i, "kind": "contact", "schema": 1,
         "payload": {"contact_id": "x", "customer_id": f"C{(start + i) % 100_000 + 1:08d}",
                     "channel": "outbound_call", "started_at": "2026-11-26T10:00:00Z",
                     "ended_at": "2026-11-26T10:03:00Z", "result_code": "reached_accepted",
                     "note": "客户表示考虑一下"}}
        for i in range(size)
    ]  # fmt: skip


def floor_http_json_rate(port: int, objects: int) -> float:
    """Objects/s moved as JSON over bare HTTP in batches of 500 (encode, send, decode)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    batches = [contact_batch(i, 500) for i in range(0, objects, 500)]
    start = time.perf_counter()
    for batch in batches:
        body = orjson.dumps({"device_id": "floor", "items": batch})
        conn.request("POST", "/v1/sync/push", body, {"content-type": "application/json"})
        orjson.loads(conn.getresponse().read())
    elapsed = time.perf_counter() - start
    conn.close()
    return len(batches) * 500 / elapsed


CLAIM_DDL = """
CREATE TABLE IF NOT EXISTS claim_floor(customer_id TEXT PRIMARY KEY, holder TEXT NOT NULL,
  fence BIGINT NOT NULL, lease_until TIMESTAMPTZ NOT NULL)
"""
CLAIM_SQL = """
INSERT INTO claim_floor AS c VALUES (%s, %s, 1, now() + interval '15 minutes')
ON CONFLICT (customer_id) DO UPDATE SET holder = excluded.holder, fence = c.fence + 1,
  lease_until = excluded.lease_until
WHERE c.lease_until < now() OR c.holder = excluded.holder
RETURNING fence, lease_until
"""


def floor_upsert_pg(conninfo: str, agents: int, per_agent: int, customers: int) -> Stat:
    """Claim-style upsert latency with ``agents`` concurrent connections (raw psycopg)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(CLAIM_DDL)
        conn.execute("TRUNCATE claim_floor")
    samples: list[float] = []
    lock = threading.Lock()

    def agent(k: int) -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            local: list[float] = []
            for j in range(per_agent):
                cid = f"C{(k * 7919 + j * 104729) % customers + 1:08d}"
                start = time.perf_counter()
                conn.execute(CLAIM_SQL, (cid, f"agent{k}")).fetchone()
                local.append(time.perf_counter() - start)
            with lock:
                samples.extend(local)

    threads = [threading.Thread(target=agent, args=(k,)) for k in range(agents)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return stat_of(samples)


LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS ledger_floor(contact_id UUID PRIMARY KEY, customer_id TEXT, row JSONB);
CREATE TABLE IF NOT EXISTS cap_floor(customer_id TEXT PRIMARY KEY, used INT);
CREATE TABLE IF NOT EXISTS seq_floor(name TEXT PRIMARY KEY, value BIGINT);
CREATE TABLE IF NOT EXISTS change_floor(seq BIGINT PRIMARY KEY, entity_id TEXT, row JSONB);
INSERT INTO seq_floor VALUES ('change', 0) ON CONFLICT DO NOTHING;
"""


def floor_ledger_pg(conninfo: str, seconds: float, tick: Callable[[], None] | None) -> Stat:
    """Single-connection ledger transaction on PostgreSQL: insert, cap, sequencer, change log."""
    import psycopg

    samples: list[float] = []
    with psycopg.connect(conninfo) as conn:
        conn.execute(LEDGER_DDL)
        conn.commit()
        end = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < end:
            cid = f"C{i % 50_000:08d}"
            row = orjson.dumps({"customer_id": cid, "channel": "outbound_call"}).decode()
            start = time.perf_counter()
            conn.execute("INSERT INTO ledger_floor VALUES (%s,%s,%s)", (uuid.uuid4(), cid, row))
            conn.execute("INSERT INTO cap_floor VALUES (%s,1) ON CONFLICT (customer_id) DO UPDATE "
                         "SET used = cap_floor.used + 1", (cid,))  # fmt: skip
            got = conn.execute(
                "UPDATE seq_floor SET value = value + 1 WHERE name='change' RETURNING value"
            ).fetchone()
            seq = got[0] if got else 0
            conn.execute("INSERT INTO change_floor VALUES (%s,%s,%s)", (seq, cid, row))
            conn.commit()
            samples.append(time.perf_counter() - start)
            i += 1
            if tick is not None and i % 100 == 0:
                tick()
    return stat_of(samples)
