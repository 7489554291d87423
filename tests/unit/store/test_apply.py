"""Applying pulled pages: idempotence, row_seq order, acks, snapshots, reset."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from agentdesk.protocol import Change, PushResult
from agentdesk.store import CacheDB
from agentdesk.store import apply as apply_module
from agentdesk.store.apply import (
    apply_changes,
    begin_snapshot,
    finish_snapshot,
    reset_cache,
    sync_position,
)
from agentdesk.store.bulk import in_bulk_mode
from agentdesk.store.outbox import record_outcome
from agentdesk.store.outbox_sync import apply_push_results, counts, take_batch
from agentdesk.store.search import search
from tests.unit.store.conftest import contact_change, customer_change, make_contact

PAGE = [
    customer_change(1, "C00000001", "张三", "13800138000"),
    customer_change(2, "C00000002", "李四", "13900139000"),
    Change(
        seq=3,
        entity="holding",
        op="put",
        id="H1",
        row={"holding_id": "H1", "customer_id": "C00000001", "product_code": "P1"},
    ),
    Change(
        seq=4,
        entity="claim",
        op="put",
        id="C00000002",
        row={
            "claim_id": "cl-1",
            "customer_id": "C00000002",
            "holder_id": "u2",
            "holder_name": "Wang",
            "channel": "store",
            "fence": 3,
            "lease_until": "2026-11-26T12:00:00Z",
        },
    ),
    Change(seq=5, entity="rule_set", op="put", id="2", row={"caps": {"global": 2}}),
    Change(seq=6, entity="mystery", op="put", id="x", row={}),
]


def dump(conn: sqlite3.Connection) -> list[object]:
    tables = ["customer", "holding", "claim_active", "rule_set", "contact", "outbox", "sync_state"]
    out: list[object] = []
    for t in tables:
        cols = "*" if t != "sync_state" else "stream, cursor, up_to_date, max_seq"
        if t == "customer":
            cols = "customer_id, name, row_seq, row"
        out.append(conn.execute(f"SELECT {cols} FROM {t} ORDER BY 1").fetchall())
    out.append(
        conn.execute("SELECT rowid FROM customer_fts WHERE customer_fts MATCH '张'").fetchall()
    )
    return out


def test_page_is_applied_with_its_cursor(db: CacheDB) -> None:
    with db.sync_writer() as s:
        result = apply_changes(s, PAGE, "cursor-1", False, epoch="e1")
        position = sync_position(s)
    assert (result.put, result.skipped) == (5, 1)
    assert position is not None
    assert (position.cursor, position.epoch, position.up_to_date, position.max_seq) == (
        "cursor-1", "e1", False, 6,
    )  # fmt: skip
    with db.reader() as r:
        assert r.execute("SELECT holder_id, fence FROM claim_active").fetchone() == ("u2", 3)


def test_applying_the_same_page_twice_gives_the_same_state(db: CacheDB) -> None:
    with db.sync_writer() as s:
        apply_changes(s, PAGE, "cursor-1", True)
        once = dump(s)
        apply_changes(s, PAGE, "cursor-1", True)
        twice = dump(s)
    assert once == twice


def test_an_older_row_never_replaces_a_newer_one(db: CacheDB) -> None:
    with db.sync_writer() as s:
        apply_changes(s, [customer_change(10, "C00000001", "张三", "13800138000")], "c1", True)
        apply_changes(s, [customer_change(7, "C00000001", "张老三", "13800138000")], "c2", True)
        apply_changes(
            s, [Change(seq=8, entity="customer", op="remove", id="C00000001")], "c3", True
        )
        row = s.execute("SELECT name, row_seq FROM customer").fetchone()
        apply_changes(s, [customer_change(12, "C00000001", "张新三", "13800138000")], "c4", True)
        newer = s.execute("SELECT name, row_seq FROM customer").fetchone()
    assert row == ("张三", 10)
    assert newer == ("张新三", 12)


def test_removing_a_customer_removes_their_cached_rows(db: CacheDB) -> None:
    with db.sync_writer() as s:
        apply_changes(s, PAGE, "c1", True)
        apply_changes(
            s, [Change(seq=9, entity="customer", op="remove", id="C00000001")], "c2", True
        )
        assert s.execute("SELECT count(*) FROM holding").fetchone() == (0,)
        assert search(s, "张三") == []


def test_pulled_contact_replaces_the_local_copy_and_acks_the_outbox(db: CacheDB) -> None:
    contact = make_contact()
    with db.writer() as w:
        entry = record_outcome(w, contact)
    with db.sync_writer() as s:
        assert [i.id for i in take_batch(s)] == [entry.id]
        apply_push_results(s, [PushResult(id=entry.id, status="applied", server_seq=41)])
        assert counts(s).waiting == 0
        assert s.execute("SELECT state FROM outbox").fetchone() == ("inflight",)
        pulled = contact_change(
            41, dataclasses.replace(contact, contact_id=entry.id), result={"status": "applied"}
        )
        result = apply_changes(s, [pulled], "c41", True)
        state = s.execute("SELECT state, acked_at IS NOT NULL FROM outbox").fetchone()
        origin = s.execute("SELECT origin, row_seq FROM contact").fetchall()
    assert result.acked == 1
    assert state == ("acked", 1)
    assert origin == [("server", 41)]


def test_conflict_result_is_kept_for_attention(db: CacheDB) -> None:
    from agentdesk.protocol import Conflict

    with db.writer() as w:
        entry = record_outcome(w, make_contact())
    with db.sync_writer() as s:
        apply_push_results(
            s,
            [PushResult(id=entry.id, status="applied_with_conflict", server_seq=5,
                        conflict=Conflict(type="frequency_cap", limit="2/7d", count_after=3))],
        )  # fmt: skip
        apply_changes(s, [], "c5", True)
        state = s.execute("SELECT state, json_extract(result, '$.conflict.type') FROM outbox")
        assert state.fetchone() == ("conflict", "frequency_cap")
        assert counts(s).conflicts == 1


def test_reset_clears_the_cache_but_keeps_the_outbox(db: CacheDB) -> None:
    with db.writer() as w:
        entry = record_outcome(w, make_contact())
    with db.sync_writer() as s:
        apply_changes(s, PAGE, "c1", True)
        reset_cache(s)
        left = {
            t: s.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("customer", "holding", "claim_active", "rule_set", "outbox")
        }
        assert sync_position(s) is None
        assert s.execute("SELECT contact_id FROM contact").fetchall() == [(entry.id,)]
        apply_changes(s, PAGE[:1], "c1", True)
        assert [h.name for h in search(s, "张")] == ["张三"]
    assert left == {"customer": 0, "holding": 0, "claim_active": 0, "rule_set": 0, "outbox": 1}


def test_snapshot_bulk_mode_rebuilds_indexes_and_search(db: CacheDB) -> None:
    with db.sync_writer() as s:
        begin_snapshot(s)
        assert in_bulk_mode(s)
        indexes = s.execute("SELECT count(*) FROM sqlite_master WHERE name = 'ix_customer_msisdn'")
        assert indexes.fetchone() == (0,)
        apply_changes(s, PAGE, "c1", False)
        begin_snapshot(s)  # resuming after a crash is harmless
        finish_snapshot(s)
        assert not in_bulk_mode(s)
        assert [h.name for h in search(s, "张三")] == ["张三"]
        assert [h.name for h in search(s, "1390013")] == ["李四"]
        apply_changes(s, [customer_change(30, "C00000003", "张飞", "13700137000")], "c2", True)
        assert [h.name for h in search(s, "张")] == ["张三", "张飞"]


def _stored(conn: sqlite3.Connection) -> list[object]:
    """Every cached customer and holding, each value with its SQLite type (no ``id``/time)."""
    out: list[object] = []
    for table in ("customer", "holding"):
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        keep = [c for c in cols if c not in ("id", "synced_at")]
        shown = ", ".join(f"typeof({c}), quote({c})" for c in keep)
        out.append(conn.execute(f"SELECT {shown} FROM {table} ORDER BY 2").fetchall())
    return out


def test_a_page_applies_where_sqlite_binds_only_999_variables(
    db: CacheDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite before 3.32 binds at most 999 parameters a statement (64 customers need 1,344)
    monkeypatch.setattr(apply_module, "_VARIABLE_LIMIT", 999)
    page = [customer_change(i + 10, f"C{i:08d}", "张三", f"139{i:08d}") for i in range(150)]
    with db.sync_writer() as s:
        s.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        apply_changes(s, page, "c1", False)
        stored = s.execute("SELECT count(*) FROM customer").fetchone()[0]
    assert stored == 150


@pytest.mark.parametrize("rows_per_statement", [4, apply_module.ROWS_PER_STATEMENT])
def test_a_page_stores_what_its_changes_applied_one_by_one_store(
    db: CacheDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_per_statement: int
) -> None:
    monkeypatch.setattr(apply_module, "ROWS_PER_STATEMENT", rows_per_statement)
    names = ["张三", "李四", "Wang Wu", "曾小单", "吕"]
    page: list[Change] = [
        customer_change(i + 10, f"C{i:08d}", names[i % len(names)], f"139{i:08d}")
        for i in range(150)
    ]
    page += [  # the same customers again within the page: an older row, then a newer one
        customer_change(3, "C00000001", "旧名", "13000000000"),
        customer_change(500, "C00000002", "新名", "13000000001"),
    ]
    page += [
        Change(seq=600 + i, entity="holding", op="put", id=f"H{i}",
               row={"holding_id": f"H{i}", "customer_id": f"C{i % 7:08d}"})
        for i in range(9)
    ]  # fmt: skip
    with db.sync_writer() as s:
        apply_changes(s, page, "c1", False)
        together = _stored(s)
    with CacheDB.open(tmp_path / "one-by-one.db") as other, other.sync_writer() as s:
        for change in page:
            apply_changes(s, [change], "c1", False)
        one_by_one = _stored(s)
    assert together == one_by_one
    customers = {row[1]: row for row in together[0]}  # type: ignore[union-attr]
    assert len(customers) == 150
    assert customers["'C00000001'"][9] == "'李四'"  # the older row did not replace it
    assert customers["'C00000002'"][9] == "'新名'"
