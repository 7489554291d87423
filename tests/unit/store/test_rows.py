"""Pulled rows are stored as the JSON text that came over the wire, indexed by their columns."""

from __future__ import annotations

import gc
import sqlite3

import msgspec
import orjson

from agentdesk.domain import Channel, CustomerView, ResultCode
from agentdesk.protocol import Change, from_row, to_row
from agentdesk.protocol.raw import RawChange, RawPullPage
from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes, prepare_changes
from tests.unit.store.conftest import contact_change, customer_change, make_contact, world_changes


def _as_wire(changes: list[Change]) -> bytes:
    """A pull answer as the service sends it (keys in an order of its own)."""
    wire = [
        {"seq": c.seq, "entity": c.entity, "op": c.op, "id": c.id,
         "row": None if c.row is None else dict(reversed(c.row.items()))}
        for c in changes
    ]  # fmt: skip
    return orjson.dumps({"changes": wire, "cursor": "c1", "up_to_date": False})


def _tables(conn: sqlite3.Connection) -> list[object]:
    out: list[object] = []
    for table in ("customer", "holding", "customer_usage", "target_member", "marketing_order",
                  "contact", "campaign", "offer", "rule_set"):  # fmt: skip
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        keep = [c for c in cols if c not in ("id", "synced_at", "row", "result")]
        rows = conn.execute(f"SELECT {', '.join(keep)} FROM {table} ORDER BY 1, 2").fetchall()
        out.append((table, rows))
        if "row" in cols:
            parsed = conn.execute(f"SELECT row FROM {table} ORDER BY {keep[0]}").fetchall()
            out.append([orjson.loads(r[0]) for r in parsed])
    return out


def test_raw_rows_fill_the_same_columns_as_decoded_rows(db: CacheDB) -> None:
    changes = world_changes()
    page = msgspec.json.decode(_as_wire(changes), type=RawPullPage)
    with db.sync_writer() as s:
        apply_changes(s, page.changes, page.cursor, False)
        from_raw = _tables(s)
        s.execute("DELETE FROM contact")
        for table in ("customer", "holding", "customer_usage", "target_member", "marketing_order",
                      "campaign", "offer", "rule_set"):  # fmt: skip
            s.execute(f"DELETE FROM {table}")
        apply_changes(s, prepare_changes(changes), "c1", False)
        from_dicts = _tables(s)
    assert from_raw == from_dicts
    counts = dict(from_raw[::2])  # type: ignore[arg-type]
    assert all(counts[t] for t in ("customer", "holding", "contact", "target_member"))


def test_customer_row_is_stored_as_received_and_reads_back(db: CacheDB) -> None:
    (customer,) = [c for c in world_changes() if c.entity == "customer"][:1]
    text = orjson.dumps(customer.row)
    change = RawChange(seq=7, entity="customer", op="put", id=customer.id,
                          row=msgspec.Raw(text))  # fmt: skip
    with db.sync_writer() as s:
        apply_changes(s, [change], "c1", False)
    with db.reader() as r:
        row, msisdn, name_pinyin, row_seq = r.execute(
            "SELECT row, msisdn, name_pinyin, row_seq FROM customer WHERE customer_id = ?",
            (customer.id,),
        ).fetchone()
        found = r.execute(
            "SELECT count(*) FROM customer_fts WHERE customer_fts MATCH 'zhangsan'"
        ).fetchone()[0]
    assert row == text.decode()
    assert (msisdn, row_seq) == ("13800138000", 7)
    assert "zhangsan" in name_pinyin.split()
    assert found == 1
    assert customer.row is not None
    assert from_row(orjson.loads(row), CustomerView) == from_row(customer.row, CustomerView)


def test_contact_keeps_its_result_and_a_remove_deletes_it(db: CacheDB) -> None:
    contact = make_contact(contact_id="0190c0de-0000-7000-8000-000000000001")
    row = {**to_row(contact), "result": {"status": "applied", "server_seq": 9}}
    put = RawChange(seq=9, entity="contact", op="put", id=contact.contact_id,
                       row=msgspec.Raw(orjson.dumps(row)))  # fmt: skip
    with db.sync_writer() as s:
        apply_changes(s, [put], "c1", True)
        stored = s.execute(
            "SELECT result, is_marketing, reached, started_at FROM contact WHERE contact_id = ?",
            (contact.contact_id,),
        ).fetchone()
        remove = RawChange(seq=10, entity="contact", op="remove", id=contact.contact_id)
        apply_changes(s, [remove], "c2", True)
        left = s.execute("SELECT count(*) FROM contact").fetchone()[0]
    assert orjson.loads(stored[0]) == {"status": "applied", "server_seq": 9}
    assert (stored[1], stored[2]) == (1, 1)  # an outbound call we started, reached
    assert stored[3] == "2026-11-20T09:30:00.000000Z"
    assert left == 0


def test_rows_bound_as_received_bytes_are_stored_as_json_text(db: CacheDB) -> None:
    changes = world_changes()
    page = msgspec.json.decode(_as_wire(changes), type=RawPullPage)
    with db.sync_writer() as s:
        apply_changes(s, page.changes, page.cursor, False)
    with db.reader() as r:
        for table in ("customer", "holding", "customer_usage", "contact", "campaign", "rule_set"):
            kinds = {k for (k,) in r.execute(f"SELECT DISTINCT typeof(row) FROM {table}")}
            assert kinds == {"text"}, table
        results = {k for (k,) in r.execute("SELECT DISTINCT typeof(result) FROM contact")}
        assert results <= {"text", "null"}
        # what the services read with SQLite's JSON functions (counter.py, queues)
        ids = r.execute("SELECT count(*) FROM contact WHERE json_extract(row, '$.customer_id') "
                        "= customer_id").fetchone()[0]  # fmt: skip
        assert ids == r.execute("SELECT count(*) FROM contact").fetchone()[0] > 0


def test_missing_values_are_stored_as_null_and_flags_as_integers(db: CacheDB) -> None:
    """A contact with no campaign and no push result, a customer with no account manager: the
    cache holds SQL NULL there (what "unassigned" and "not marketing" queries look for), and the
    contact's flags as 0/1."""
    customer = customer_change(1, "C00000009", "王五", "13700137000")
    assert customer.row is not None
    customer.row["attributes"]["account_manager_id"] = None
    call = make_contact("C00000009", "0190c0de-0000-7000-8000-000000000009",
                        channel=Channel.INBOUND_CALL,
                        result_code=ResultCode.NOT_REACHED_NO_ANSWER)  # fmt: skip
    contact = contact_change(2, call)
    page = msgspec.json.decode(_as_wire([customer, contact]), type=RawPullPage)
    with db.sync_writer() as s:
        apply_changes(s, page.changes, page.cursor, False)
    with db.reader() as r:
        manager = r.execute(
            "SELECT account_manager_id IS NULL, typeof(account_manager_id) FROM customer "
            "WHERE customer_id = 'C00000009'"
        ).fetchone()
        stored = r.execute(
            "SELECT campaign_id IS NULL, typeof(campaign_id), typeof(result), is_marketing, "
            "typeof(is_marketing), reached, typeof(reached) FROM contact"
        ).fetchone()
        unassigned = r.execute(
            "SELECT count(*) FROM customer WHERE account_manager_id IS NULL"
        ).fetchone()[0]
    assert manager == (1, "null")
    assert stored == (1, "null", "null", 0, "integer", 0, "integer")
    assert unassigned == 1


def _usage_page(changes: list[tuple[int, str, str, bytes]]) -> RawPullPage:
    wire = b",".join(
        b'{"seq":%d,"entity":"usage_months","op":"%s","id":"%s","row":%s}'
        % (seq, op.encode(), key.encode(), row)
        for seq, op, key, row in changes
    )
    return msgspec.json.decode(
        b'{"changes":[' + wire + b'],"cursor":"c1","up_to_date":false}', type=RawPullPage
    )


def test_a_customers_months_are_one_row_that_a_newer_put_replaces_and_a_remove_clears(
    db: CacheDB,
) -> None:
    """All of a customer's months come as one ``usage`` change keyed by the customer: the
    row is kept as sent, a newer put replaces the whole set (a month the service no longer
    has is gone), an older one is ignored, and a remove takes the customer's months away."""
    old = b'{"customer_id":"C1","months":[{"customer_id":"C1","month":"2026-09","arpu":1}]}'
    new = b'{"customer_id":"C1","months":[{"customer_id":"C1","month":"2026-10","arpu":2}]}'
    other = b'{"customer_id":"C2","months":[]}'
    with db.sync_writer() as s:
        apply_changes(s, _usage_page([(5, "put", "C1", old), (6, "put", "C2", other)]).changes,
                      "c1", False)  # fmt: skip
        apply_changes(s, _usage_page([(7, "put", "C1", new), (4, "put", "C2", old)]).changes,
                      "c2", False)  # fmt: skip
        kept = s.execute(
            "SELECT customer_id, row, row_seq FROM customer_usage ORDER BY 1"
        ).fetchall()
        apply_changes(s, _usage_page([(8, "remove", "C1", b"null")]).changes, "c3", False)
        left = s.execute("SELECT customer_id FROM customer_usage").fetchall()
    assert kept == [("C1", new.decode(), 7), ("C2", other.decode(), 6)]
    assert left == [("C2",)]


def test_a_per_month_usage_change_of_an_older_service_is_skipped_not_stored(
    db: CacheDB,
) -> None:
    """Before ``usage_months`` a month was its own ``usage`` change (id ``customer:month``);
    this version counts such a change as skipped, as any entity it does not know, and stores
    nothing for it (the service raises its retention floor past them: its migration 0004)."""
    month = b'{"customer_id":"C1","month":"2026-09","voice_min":1}'
    wire = b'{"seq":3,"entity":"usage","op":"put","id":"C1:2026-09","row":%s}' % month
    page = msgspec.json.decode(
        b'{"changes":[' + wire + b'],"cursor":"c1","up_to_date":false}', type=RawPullPage
    )
    with db.sync_writer() as s:
        result = apply_changes(s, page.changes, "c1", False)
        stored = s.execute("SELECT count(*) FROM customer_usage").fetchone()[0]
    assert (result.put, result.skipped, stored) == (0, 1, 0)


def test_preparing_a_page_runs_no_collection_and_leaves_the_collector_as_it_was() -> None:
    """A first sync's pages build tens of thousands of parameter tuples: the garbage collector
    does not keep interrupting that work, and it is running again once the page is prepared
    (a collector left off would let a long session's memory grow); one the app had turned off
    stays off."""
    page = msgspec.json.decode(_as_wire(world_changes() * 200), type=RawPullPage)
    starts: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            starts.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        prepared = prepare_changes(page.changes)
        during = len(starts)
        assert gc.isenabled()
        gc.disable()
        try:
            prepare_changes(page.changes)
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        gc.callbacks.remove(count)
    assert sum(map(len, prepared.puts.values())) > 4 * 700  # enough to start several otherwise
    assert during == 0


def test_rows_with_cjk_escapes_and_spacing_are_stored_byte_for_byte(db: CacheDB) -> None:
    # What the cache keeps in ``row`` (and a contact's ``result``) is the text the service sent,
    # not a re-rendering of it: raw CJK, \uXXXX escapes, escaped quotes and slashes, spacing and
    # number spellings all survive, in one page that mixes entities.
    customer = (
        '{"attributes": {"customer_id":"C00000001","msisdn":"13800138000","name":"张\\u4e09",'
        '"id_number":"11010519491231002x","region_code":"110105","note":"a \\"quoted\\" \\\\ '
        '\\/ 路"},"value":{"value_tier":2,"arpu_3m":1.50},"churn":{"risk_score":1e-1}}'
    )
    usage = (
        '{"customer_id":"C00000001","months":[{"customer_id":"C00000001","month":"2026-10",'
        '"arpu":52.070,"memo":"\\u6708"}]}'
    )
    contact_row = dict(to_row(make_contact(contact_id="0190c0de-0000-7000-8000-00000000000e")))
    contact_row["note"] = '回访 "ok"'
    contact = orjson.dumps(contact_row)[:-1] + b',"result": {"status" : "applied"} }'
    page = [
        RawChange(seq=5, entity="customer", op="put", id="C00000001",
                  row=msgspec.Raw(customer.encode())),
        RawChange(seq=6, entity="usage_months", op="put", id="C00000001",
                  row=msgspec.Raw(usage.encode())),
        RawChange(seq=7, entity="contact", op="put", id=str(contact_row["contact_id"]),
                  row=msgspec.Raw(contact)),
    ]  # fmt: skip
    with db.sync_writer() as s:
        apply_changes(s, page, "c1", False)
    with db.reader() as r:
        stored = [
            r.execute("SELECT row, name, id_number FROM customer").fetchone(),
            r.execute("SELECT row, customer_id FROM customer_usage").fetchone(),
            r.execute("SELECT row, result FROM contact").fetchone(),
        ]
    assert stored[0] == (customer, "张三", "11010519491231002X")
    assert stored[1] == (usage, "C00000001")
    assert stored[2] == (contact.decode(), '{"status" : "applied"}')


def test_a_stale_row_later_in_the_same_page_does_not_overwrite_a_newer_one(db: CacheDB) -> None:
    newer = '{"holding_id":"H1","customer_id":"C00000002","v":"new"}'
    older = '{"holding_id":"H1","customer_id":"C00000001","v":"old"}'
    page = [
        RawChange(seq=9, entity="holding", op="put", id="H1", row=msgspec.Raw(newer.encode())),
        RawChange(seq=4, entity="holding", op="put", id="H1", row=msgspec.Raw(older.encode())),
    ]
    with db.sync_writer() as s:
        apply_changes(s, page, "c1", False)
        apply_changes(s, page[1:], "c2", False)  # and not in a later page either
        rows = s.execute("SELECT row, customer_id, row_seq FROM holding").fetchall()
    assert rows == [(newer, "C00000002", 9)]
