"""A first snapshot into empty tables inserts without the unique id indexes and builds them at
the end: the cache ends exactly as the upsert leaves it (duplicates, crash, resume, removes)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from agentdesk.protocol import Change
from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes, begin_snapshot, finish_snapshot
from agentdesk.store.bulk import BULK_TABLES, UNIQUE_KEYS, in_bulk_mode, plain_tables
from agentdesk.store.outbox import record_outcome
from agentdesk.store.search import search
from tests.unit.store.conftest import (
    contact_change,
    customer_change,
    make_contact,
    world_changes,
)

CONTACT = make_contact(contact_id="0193a0c0-0000-7000-8000-000000000001")


def _pages() -> list[list[Change]]:
    """A small world, then the same ids again: newer, stale, and equal ``row_seq`` rows."""
    world = world_changes()
    top = max(c.seq for c in world)
    holding = next(c for c in world if c.entity == "holding")
    assert holding.row is not None
    return [
        world[: len(world) // 2],
        world[len(world) // 2 :],
        [
            customer_change(top + 1, "C00000001", "张老三", "13800138000"),  # newer
            customer_change(1, "C00000002", "李过时", "13900139000"),  # stale: never stored
            Change(
                seq=holding.seq,
                entity="holding",
                op="put",
                id=holding.id,
                row={**holding.row, "product_code": "P-EQUAL"},
            ),  # equal row_seq: later wins
            contact_change(top + 2, CONTACT),
        ],
        [contact_change(top + 3, CONTACT, result={"status": "applied"})],
    ]


def _stored(conn: sqlite3.Connection) -> list[object]:
    """Every row of the big tables (no ``id``/``synced_at``) and the names search finds."""
    out: list[object] = []
    for table in BULK_TABLES:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        shown = ", ".join(f"quote({c})" for c in cols if c not in ("id", "synced_at"))
        out.append(conn.execute(f"SELECT {shown} FROM {table} ORDER BY 1, 2").fetchall())
    out.append(sorted(h.name for h in search(conn, "C0000")))
    out.append(sorted(h.name for h in search(conn, "张")))
    return out


def _unique_indexes(conn: sqlite3.Connection) -> list[str]:
    found = conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'uq_%' ORDER BY name")
    return [name for (name,) in found]


@pytest.fixture
def upserted(tmp_path: Path, template_db: Path) -> list[object]:
    """What the pages leave when applied one by one outside a snapshot (the upsert path)."""
    path = tmp_path / "upserted.db"
    shutil.copyfile(template_db, path)
    with CacheDB.open(path) as db, db.sync_writer() as s:
        for n, page in enumerate(_pages()):
            apply_changes(s, page, f"c{n}", False)
        return _stored(s)


def test_first_snapshot_stores_what_the_upsert_stores(db: CacheDB, upserted: list[object]) -> None:
    with db.sync_writer() as s:
        before = _unique_indexes(s)
        begin_snapshot(s)
        dropped = plain_tables(s)
        for n, page in enumerate(_pages()):
            apply_changes(s, page, f"c{n}", False)
        finish_snapshot(s)
        assert _stored(s) == upserted
        assert _unique_indexes(s) == before
        assert plain_tables(s) == frozenset()
        newer = customer_change(999, "C00000001", "张新三", "13800138000")
        apply_changes(s, [newer], "c9", True)  # the upsert finds the row by its key again
        names = s.execute("SELECT name FROM customer WHERE customer_id = 'C00000001'").fetchall()
    assert dropped == frozenset(BULK_TABLES)
    assert names == [("张新三",)]


def test_a_table_with_local_contacts_keeps_its_unique_index(
    db: CacheDB, upserted: list[object]
) -> None:
    with db.writer() as w:
        record_outcome(w, CONTACT)  # recorded on this device before the first sync
    with db.sync_writer() as s:
        begin_snapshot(s)
        dropped = plain_tables(s)
        for n, page in enumerate(_pages()):
            apply_changes(s, page, f"c{n}", False)
        finish_snapshot(s)
        contacts = s.execute(
            "SELECT contact_id, origin, row_seq FROM contact WHERE contact_id = ?",
            (CONTACT.contact_id,),
        ).fetchall()
        assert _stored(s) == upserted
    assert "contact" not in dropped
    assert "customer" in dropped
    assert [(c, o) for c, o, _seq in contacts] == [(CONTACT.contact_id, "server")]


def test_crash_mid_snapshot_repairs_duplicates_and_resume_does_not_double_rows(
    tmp_path: Path, template_db: Path, upserted: list[object]
) -> None:
    path = tmp_path / "crashed.db"
    shutil.copyfile(template_db, path)
    pages = _pages()
    with CacheDB.open(path) as db, db.sync_writer() as s:
        begin_snapshot(s)
        for n, page in enumerate(pages[:3]):
            apply_changes(s, page, f"c{n}", False)
        apply_changes(s, pages[2], "c2", False)  # the same page again: rows twice
        doubled = s.execute("SELECT count(*) FROM customer").fetchone()[0]
    # the app died here; the next start finishes the bulk mode, then the snapshot resumes
    with CacheDB.open(path) as db, db.sync_writer() as s:
        assert in_bulk_mode(s)
        finish_snapshot(s)
        customers = s.execute("SELECT count(*) FROM customer").fetchone()[0]
        begin_snapshot(s)
        resumed_plain = plain_tables(s)
        apply_changes(s, pages[2], "c2", False)
        apply_changes(s, pages[3], "c3", False)
        finish_snapshot(s)
        stored = _stored(s)
        indexes = _unique_indexes(s)
    assert doubled > customers
    assert resumed_plain == frozenset()  # the tables hold rows now: the upsert path
    assert stored == upserted
    assert indexes == sorted(f"uq_{t}_{c}" for t, c in UNIQUE_KEYS.items())


def test_a_remove_during_the_snapshot_builds_that_tables_index_first(db: CacheDB) -> None:
    pages = _pages()
    holding = next(c for c in pages[0] + pages[1] if c.entity == "holding")
    remove = Change(seq=990, entity="holding", op="remove", id=holding.id)
    with db.sync_writer() as s:
        begin_snapshot(s)
        apply_changes(s, pages[0] + pages[1], "c1", False)
        apply_changes(s, pages[2], "c2", False)  # the holding twice, with equal row_seq
        apply_changes(s, [remove], "c3", False)
        left = s.execute("SELECT count(*) FROM holding WHERE holding_id = ?", (holding.id,))
        assert left.fetchone() == (0,)
        assert "holding" not in plain_tables(s)
        assert "customer" in plain_tables(s)
        finish_snapshot(s)
        assert plain_tables(s) == frozenset()
