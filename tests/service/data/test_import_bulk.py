"""The customer bulk import path: same rows as the validating path, upserts, rejects, extras."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from agentdesk_sync import importers
from agentdesk_sync.db.engine import make_engine, migrate
from agentdesk_sync.db.migrate import upgrade
from agentdesk_sync.importers import run_import
from agentdesk_sync.importers.customers import plan_for
from agentdesk_sync.importers.fields import FieldError
from agentdesk_sync.importers.kinds import prepare
from agentdesk_sync.importers.mapping import Mapping
from agentdesk_sync.importers.reader import Record, read_records
from agentdesk_sync.importers.rowtext import new_rows
from agentdesk_sync.importers.upsert import (
    _LIMITS,
    _TEXT_COLS,
    _check_lengths,
    _copy_fields,
    record_keys,
    stage_batch,
    write_staged,
)
from agentdesk_sync.seed import seed_database
from agentdesk_sync.seed.export import write_customers_csv
from tests.service.data.store_query import query

ANCHOR = date(2026, 11, 26)


def _outcome(call, *args):  # type: ignore[no-untyped-def]
    try:
        prepared = call(*args)
    except FieldError as exc:
        return ("reject", exc.field, exc.reason)
    return (prepared.key, prepared.row, prepared.columns)


def test_bulk_rows_equal_the_validating_path(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    write_customers_csv(source, 300, 9, ANCHOR)
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(",SS", ",SS42", 1)  # an unknown segment
    parts = lines[6].split(",")
    parts[1] = ""  # no mobile number
    lines[6] = ",".join(parts)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = Mapping()
    plans: dict[tuple[str, ...], object] = {}
    previous = None
    records = [r for r, _ in read_records(source) if isinstance(r, Record)]
    assert len(records) == 300
    for record in records:
        for stored in (None, previous):
            slow = _outcome(prepare, "customers", record.values, mapping, stored)
            plan = plan_for(plans, record.values, mapping)  # type: ignore[arg-type]
            fast = _outcome(plan.prepare, record.values, stored)
            assert fast == slow
        if slow[0] != "reject":
            previous = slow[1]
    assert [p.fast for p in plans.values()] == [True]  # type: ignore[attr-defined]


def test_generated_export_imports_then_changes_nothing(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    assert write_customers_csv(source, 1200, 4, ANCHOR) == 1200
    first = run_import(db_url, "customers", source)
    assert first.summary() == "imported=1200 updated=0 unchanged=0 rejected=0"
    again = run_import(db_url, "customers", source)
    assert again.summary() == "imported=0 updated=0 unchanged=1200 rejected=0"
    assert query(db_url, "SELECT count(*), max(server_seq) FROM change_log") == [(1200, 1200)]
    row = query(db_url, "SELECT row, row_seq FROM customer WHERE customer_id = 'C00000007'")[0]
    view = row[0] if isinstance(row[0], dict) else orjson.loads(str(row[0]))
    assert view["attributes"]["extra"]["name_pinyin"]  # an unknown column kept as extra
    assert row[1] == 7


def test_import_over_seeded_customers_keeps_their_figures(db_url: str, tmp_path: Path) -> None:
    seed_database(db_url, 40, 2, anchor=ANCHOR)
    source = tmp_path / "c.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "segment_id", "tags", "sensitive_channels"])
        writer.writerow(["C00000003", "SS1", "vip|金卡", "sms"])
        writer.writerow(["C00000004", "SS2", "", "carrier_pigeon"])
        writer.writerow(["C00000003", "SS2", "vip", ""])  # the same key again: later line wins
    rejects = tmp_path / "r.csv"
    report = run_import(db_url, "customers", source, rejects_path=rejects)
    assert (report.imported, report.updated, report.rejected) == (0, 1, 1)
    assert report.rejects[0].line == 3
    assert report.rejects[0].column == "sensitive_channels"
    row = query(db_url, "SELECT row, segment_id FROM customer WHERE customer_id = 'C00000003'")
    view = row[0][0] if isinstance(row[0][0], dict) else orjson.loads(str(row[0][0]))
    assert row[0][1] == "SS2"
    assert view["attributes"]["tags"] == ["vip"]
    assert view["attributes"]["sensitive_channels"] == ["sms"]
    assert view["value"]["credit_score"] >= 520  # the seeded figures stay
    log = query(db_url, "SELECT entity_id FROM change_log ORDER BY server_seq")
    assert log == [("C00000003",), ("C00000003",)]


def test_dry_run_of_the_bulk_path_writes_nothing(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    write_customers_csv(source, 50, 1, ANCHOR)
    report = run_import(db_url, "customers", source, dry_run=True)
    assert report.imported == 50
    assert query(db_url, "SELECT count(*) FROM customer") == [(0,)]
    assert query(db_url, "SELECT count(*) FROM change_log") == [(0,)]


def _indexes(url: str) -> set[str]:
    rows = query(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'customer'")
    return {str(r[0]) for r in rows}


def test_first_load_rebuilds_the_search_indexes(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "BULK_INDEX_BYTES", 0)  # every file counts as big
    source = tmp_path / "customers.csv"
    write_customers_csv(source, 600, 3, ANCHOR)
    report = run_import(pg_url, "customers", source)
    assert report.summary() == "imported=600 updated=0 unchanged=0 rejected=0"
    assert {"ix_customer_msisdn", "ix_customer_id_number", "ix_customer_region_customer",
            "ix_customer_account_manager_id"} <= _indexes(pg_url)  # fmt: skip
    msisdn = query(pg_url, "SELECT msisdn FROM customer WHERE customer_id = 'C00000009'")[0][0]
    found = query(pg_url, f"SELECT customer_id FROM customer WHERE msisdn = '{msisdn}'")
    assert ("C00000009",) in found
    again = run_import(pg_url, "customers", source)
    assert again.summary() == "imported=0 updated=0 unchanged=600 rejected=0"


def test_an_index_left_missing_by_a_killed_import_comes_back(pg_url: str, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    write_customers_csv(source, 20, 1, ANCHOR)
    run_import(pg_url, "customers", source)
    _query_commit(pg_url, "DROP INDEX ix_customer_msisdn")
    assert "ix_customer_msisdn" not in _indexes(pg_url)
    report = run_import(pg_url, "customers", source)
    assert report.unchanged == 20
    assert "ix_customer_msisdn" in _indexes(pg_url)


def _query_commit(url: str, sql: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def test_a_key_repeated_in_the_next_batch_compares_with_what_it_wrote(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "CUSTOMER_BATCH", 10)
    source = tmp_path / "c.csv"
    write_customers_csv(source, 25, 5, ANCHOR)
    with source.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    third = dict(zip(header, rows[2], strict=True))
    assert third["customer_id"] == "C00000003"
    changed = dict(third, segment_id="SS2" if third["segment_id"] != "SS2" else "SS3")
    rows.insert(12, [changed[h] for h in header])  # in the batch right after the first one
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    report = run_import(db_url, "customers", source)
    assert (report.imported, report.updated, report.unchanged) == (25, 1, 0)
    row = query(db_url, "SELECT segment_id, row_seq FROM customer WHERE customer_id = 'C00000003'")
    assert row == [(changed["segment_id"], 13)]
    log = query(db_url, "SELECT server_seq FROM change_log WHERE entity_id = 'C00000003'")
    assert sorted(r[0] for r in log) == [3, 13]
    count = query(db_url, "SELECT count(*), min(server_seq), max(server_seq) FROM change_log")
    assert count == [(26, 1, 26)]


def test_a_value_longer_than_its_column_is_rejected_not_fatal(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    write_customers_csv(source, 30, 2, ANCHOR)
    lines = source.read_text(encoding="utf-8").splitlines()
    parts = lines[4].split(",")
    parts[1] = "1" * 25  # msisdn holds 20 characters
    lines[4] = ",".join(parts)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run_import(db_url, "customers", source)
    assert (report.imported, report.rejected) == (29, 1)
    reject = report.rejects[0]
    assert (reject.line, reject.column) == (5, "msisdn")
    assert "longer than 20" in reject.reason


def test_two_batches_in_flight_keep_file_order_and_see_each_others_writes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "CUSTOMER_BATCH", 10)
    source = tmp_path / "c.csv"
    write_customers_csv(source, 45, 6, ANCHOR)
    with source.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    third = dict(zip(header, rows[2], strict=True))
    changed = dict(third, segment_id="SS2" if third["segment_id"] != "SS2" else "SS3")
    rows.insert(22, [changed[h] for h in header])  # two batches later: read while 1 and 2 fly
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    report = run_import(db_url, "customers", source)
    assert (report.imported, report.updated, report.unchanged) == (45, 1, 0)
    log = query(db_url, "SELECT entity_id FROM change_log ORDER BY server_seq")
    assert [r[0] for r in log] == [r[0] for r in rows]  # numbers follow the file
    row = query(db_url, "SELECT segment_id, row_seq FROM customer WHERE customer_id = 'C00000003'")
    assert row == [(changed["segment_id"], 23)]


def test_a_new_customer_another_writer_inserted_meanwhile_is_updated_not_fatal(
    pg_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "c.csv"
    write_customers_csv(source, 5, 3, ANCHOR)
    records = [r for r, _ in read_records(source) if isinstance(r, Record)]
    migrate(pg_url)
    engine = make_engine(pg_url)
    reader, writer = engine.raw_connection(), engine.raw_connection()
    try:
        with reader.driver_connection.cursor() as cur:  # all five are new when read
            staged = stage_batch(cur, records, record_keys(records, Mapping()), Mapping(), {})
        reader.driver_connection.commit()
        _query_commit(
            pg_url,
            "INSERT INTO customer (customer_id, msisdn, name, id_type, id_number, region_code,"
            " segment_id, contact_address, row, row_seq, updated_at) VALUES ('C00000002',"
            " '1', 'x', 'national_id', '1', '110100', 'SS1', '', '{}', 0, now())",
        )
        write_staged(writer.driver_connection, staged)
    finally:
        reader.close()
        writer.close()
        engine.dispose()
    rows = query(pg_url, "SELECT customer_id, row_seq FROM customer ORDER BY 1")
    assert rows == [(f"C0000000{i}", i) for i in range(1, 6)]  # the copy fell back to upserts
    row = query(pg_url, "SELECT row::text FROM customer WHERE customer_id = 'C00000002'")[0][0]
    assert orjson.loads(str(row))["attributes"]["msisdn"] == records[1].values["msisdn"]
    assert query(pg_url, "SELECT count(*) FROM change_log") == [(5,)]


def test_customers_stored_before_the_json_migration_survive_it_and_reimport_unchanged(
    pg_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "c.csv"
    write_customers_csv(source, 3, 8, ANCHOR)
    records = [r for r, _ in read_records(source) if isinstance(r, Record)]
    plan = plan_for({}, records[0].values, Mapping())
    upgrade(pg_url, "0002")  # row was jsonb then
    insert = text(
        "INSERT INTO customer (customer_id, msisdn, name, id_type, id_number, region_code,"
        " segment_id, contact_address, row, row_seq, updated_at) VALUES (:key, :msisdn, :name,"
        " :id_type, :id_number, :region_code, :segment_id, :contact_address,"
        " CAST(:row AS jsonb), 0, now())"
    )
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        for record in records:
            p = plan.prepare(record.values, None)
            conn.execute(insert, {"key": p.key, **p.columns, "row": orjson.dumps(p.row).decode()})
    engine.dispose()
    migrate(pg_url)
    kind = "SELECT data_type FROM information_schema.columns WHERE table_name = 'customer'"
    assert query(pg_url, kind + " AND column_name = 'row'") == [("json",)]
    stored = query(pg_url, "SELECT row::text FROM customer ORDER BY customer_id")
    expected = [plan.prepare(r.values, None).row for r in records]
    assert [orjson.loads(str(r[0])) for r in stored] == expected
    report = run_import(pg_url, "customers", source)
    assert report.summary() == "imported=0 updated=0 unchanged=3 rejected=0"


def _tricky_file(path: Path) -> None:
    """The generated export with values that need escaping, stripping, defaults or rejecting."""
    write_customers_csv(path, 60, 5, ANCHOR)
    with path.open(encoding="utf-8", newline="") as handle:
        header, *body = list(csv.reader(handle))
    at = {name: i for i, name in enumerate(header)}
    edits = [
        ("name", 'He said "hi"'), ("contact_address", "C:\\path\\to"), ("name", "tab\there"),
        ("contact_address", "line1\nline2"), ("name", "ctrl\x01\x1f"), ("name", "  padded  "),
        ("name", "\u00a0nbsp\u3000"), ("msisdn", ""), ("gender", "FEMALE"), ("gender", "robot"),
        ("birth_date", "1990-13-45"), ("msisdn", "1" * 25), ("account_manager_id", "AM\\1"),
        ("account_manager_id", " AM 7 "), ("name_pinyin", ""), ("name_pinyin", 'q"\\s'),
        ("name", "emoji 😀 %s %% 50%"), ("sub_brand", ""), ("sub_brand", "  "), ("id_type", ""),
        ("segment_id", ""), ("sensitive_channels", "sms| store |"), ("customer_id", " C_PAD "),
        ("contact_address", "y" * 201), ("name", "名字\\"), ("imei", "\ttabbed"),
        ("join_date", " 2020-01-02 "), ("vip_level", "Gold"), ("region_code", ""),
        ("name", "\u2028sep"), ("name_initials", "</script>"),
    ]  # fmt: skip
    for row, (column, value) in zip(body, edits, strict=False):
        row[at[column]] = value
    body[50] = list(body[49])  # the same customer twice in a row
    body[52] = [*body[51][:2], "later", *body[51][3:]]  # again, with another name
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *body])


def test_new_customers_encoded_from_their_fields_equal_the_plans_rows(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    _tricky_file(source)
    records = [r for r, _ in read_records(source) if isinstance(r, Record)]
    mapping = Mapping()
    plans: dict[tuple[str, ...], object] = {}
    plan = plan_for(plans, records[0].values, mapping)  # type: ignore[arg-type]
    rows = new_rows(plan, records[0].header or [], _LIMITS)
    assert rows is not None
    taken = 0
    for record in records:
        encoded = rows.encode(record.fields or [], b"STAMP")
        try:
            prepared = plan.prepare(record.values, None)
            _check_lengths(prepared, mapping)
        except FieldError:
            assert encoded is None  # rejects go the plan's way, which reports them
            continue
        if encoded is None:  # a table column that needs escaping (in JSON, so in COPY too)
            texts = [prepared.key, *(v for v in prepared.columns.values() if v is not None)]
            assert any(orjson.dumps(v) != b'"%s"' % v.encode() for v in texts)
            continue
        taken += 1
        key, line, _k, _region, row = encoded
        c = prepared.columns
        text = _copy_fields([prepared.key, *[c[n] for n in _TEXT_COLS], "STAMP"])
        assert (key, row) == (prepared.key, orjson.dumps(prepared.row))
        assert line == b"%s\t%s\t" % (text.encode(), row.replace(b"\\", b"\\\\"))
    assert taken >= 45


def test_tricky_values_are_stored_as_the_plan_builds_them(pg_url: str, tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    _tricky_file(source)
    report = run_import(pg_url, "customers", source)
    assert (report.imported, report.rejected) == (53, 5)  # 60 lines, one key twice twice
    # physical lines: line 5's quoted address spans two lines
    assert {(r.line, r.column) for r in report.rejects} == {
        (10, "msisdn"), (12, "gender"), (13, "birth_date"), (14, "msisdn"), (26, "contact_address")
    }  # fmt: skip
    records = [r for r, _ in read_records(source) if isinstance(r, Record)]
    plan = plan_for({}, records[0].values, Mapping())
    expected: dict[str, object] = {}
    for record in records:
        try:
            prepared = plan.prepare(record.values, expected.get(record.fields[0].strip()))  # type: ignore[arg-type,index]
            _check_lengths(prepared, Mapping())
        except FieldError:
            continue
        expected[prepared.key] = prepared.row
    stored = query(pg_url, "SELECT customer_id, row::text FROM customer")
    assert {k: str(r).encode() for k, r in stored} == {
        k: orjson.dumps(r) for k, r in expected.items()
    }
    again = run_import(pg_url, "customers", source)
    assert (again.imported, again.rejected) == (0, 5)
    assert query(pg_url, "SELECT customer_id, row::text FROM customer") == stored
