"""A first sync over real HTTP into a fresh cache inserts without the unique id indexes and
builds them at the end: the cache ends with the same rows, every id once, as a first sync
into a cache that kept them (one with a contact recorded before the sync)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from agentdesk.domain import Channel, Contact, ResultCode
from agentdesk.store.bulk import BULK_TABLES, UNIQUE_KEYS, plain_tables
from agentdesk.store.outbox import record_outcome
from tests.integration.conftest import Central, Client


def _rows(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    shown = ", ".join(f"quote({c})" for c in cols if c not in ("id", "synced_at"))
    return conn.execute(f"SELECT {shown} FROM {table} ORDER BY 1, 2").fetchall()


def _repeated_ids(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT count(*) - count(DISTINCT {column}) FROM {table}").fetchone()[
            0
        ]
        for table, column in UNIQUE_KEYS.items()
    }


def test_first_sync_into_an_empty_cache_stores_what_the_upsert_stores(
    central: Central, make_client: Callable[[str, str], Client]
) -> None:
    fresh = make_client("fresh", "cc1")
    kept = make_client("kept", "cc2")  # same scope (both call centre)
    started = datetime.now(UTC) - timedelta(hours=1)
    local = Contact(contact_id="", customer_id=central.customers[0],
                    channel=Channel.INBOUND_CALL, started_at=started,
                    ended_at=started + timedelta(minutes=3),
                    result_code=ResultCode.REACHED_NO_OFFER, staff_id="",
                    note="before sync")  # fmt: skip
    with kept.db.writer() as conn:
        local_id = record_outcome(conn, local, device_id="kept").id
    assert kept.engine.run_once().ok  # pushes the contact, then the first sync brings it back
    assert fresh.engine.run_once().ok
    with fresh.db.reader() as a, kept.db.reader() as b:
        for table in BULK_TABLES:
            if table != "contact":
                assert _rows(a, table) == _rows(b, table), table
        fresh_contacts = {r[0] for r in a.execute("SELECT contact_id FROM contact")}
        kept_contacts = dict(b.execute("SELECT contact_id, origin FROM contact").fetchall())
        assert plain_tables(a) == plain_tables(b) == frozenset()
        assert _repeated_ids(a) == _repeated_ids(b) == dict.fromkeys(UNIQUE_KEYS, 0)
        indexes = {n for (n,) in a.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert fresh_contacts
    assert kept_contacts[local_id] == "server"
    assert fresh_contacts | {local_id} >= set(kept_contacts)
    assert {f"uq_{t}_{c}" for t, c in UNIQUE_KEYS.items()} <= indexes
