"""Imports after a merge: a row naming a merged-away customer goes to the kept one, never back
under the old id, also when the merge commits between the import's read and its write."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from agentdesk_sync.cli import main
from agentdesk_sync.db.engine import make_engine
from agentdesk_sync.importers import run_import
from agentdesk_sync.importers.mapping import Mapping
from agentdesk_sync.importers.reader import Record, read_records
from agentdesk_sync.importers.upsert import Chain, record_keys, stage_batch, write_staged
from agentdesk_sync.merge import merge_customers
from tests.service.data.store_query import query

HEADER = "customer_id,msisdn,name,region_code,segment_id,contact_address,brand,hobby\n"
KEEP = "C1,13800000001,王伟,440100,SS3,,全球通,\n"
OTHER = "C2,13900000002,王伟,440100,SS3,广州市天河路1号,动感地带,chess\n"
THIRD = "C3,13700000003,李娜,440100,SS3,,,\n"


def _attributes(url: str, customer_id: str) -> dict[str, object]:
    raw = query(url, f"SELECT row FROM customer WHERE customer_id = '{customer_id}'")[0][0]
    row = raw if isinstance(raw, dict) else orjson.loads(str(raw))
    attributes: dict[str, object] = row["attributes"]
    return attributes


def _merged_store(url: str, tmp_path: Path) -> None:
    """C1 and C2 (one person), C3; C2 merged into C1."""
    first = tmp_path / "first.csv"
    first.write_text(HEADER + KEEP + OTHER.replace("广州市天河路1号", "") + THIRD)
    assert run_import(url, "customers", first).imported == 3
    merge_customers(url, "C1", "C2")


def test_an_import_after_a_merge_updates_the_kept_customer(db_url: str, tmp_path: Path) -> None:
    _merged_store(db_url, tmp_path)
    # the CRM export still carries both records; C2 now has an address C1 lacks
    export = tmp_path / "export.csv"
    export.write_text(HEADER + KEEP + OTHER + THIRD)
    seq_before = query(db_url, "SELECT max(server_seq) FROM change_log")[0][0]
    report = run_import(db_url, "customers", export)
    assert report.summary() == "imported=0 updated=1 unchanged=2 rejected=0 redirected=1"
    assert query(db_url, "SELECT customer_id FROM customer ORDER BY 1") == [("C1",), ("C3",)]
    kept = _attributes(db_url, "C1")
    # the kept values stay; the merged-away record fills what C1 lacked
    assert (kept["customer_id"], kept["msisdn"], kept["brand"]) == ("C1", "13800000001", "全球通")
    assert kept["contact_address"] == "广州市天河路1号"
    assert kept["previous_numbers"] == ["13900000002"]
    assert kept["extra"] == {"hobby": "chess"}
    stored = query(db_url, "SELECT contact_address FROM customer WHERE customer_id = 'C1'")
    assert stored == [("广州市天河路1号",)]
    log = query(db_url, f"SELECT entity_id FROM change_log WHERE server_seq > {seq_before}")
    assert log == [("C1",)]
    # the same file again changes nothing
    again = run_import(db_url, "customers", export)
    assert again.summary() == "imported=0 updated=0 unchanged=3 rejected=0 redirected=1"
    assert query(db_url, f"SELECT count(*) FROM change_log WHERE server_seq > {seq_before}") == [
        (1,)
    ]
    assert query(db_url, "SELECT customer_id FROM customer ORDER BY 1") == [("C1",), ("C3",)]


def test_a_redirect_chain_is_followed(db_url: str, tmp_path: Path) -> None:
    _merged_store(db_url, tmp_path)
    merge_customers(db_url, "C3", "C1")  # C2 -> C1 -> C3: the merge re-points C2 at C3
    export = tmp_path / "export.csv"
    export.write_text(HEADER + OTHER)
    report = run_import(db_url, "customers", export)
    assert (report.updated, report.redirected, report.imported) == (1, 1, 0)
    assert query(db_url, "SELECT customer_id FROM customer") == [("C3",)]
    assert _attributes(db_url, "C3")["contact_address"] == "广州市天河路1号"


def test_targets_and_contacts_of_a_merged_away_customer_go_to_the_kept_one(
    db_url: str, tmp_path: Path
) -> None:
    _merged_store(db_url, tmp_path)
    campaigns = tmp_path / "k.ndjson"
    campaigns.write_text(
        '{"campaign_id": "K9", "name": "宽带融合", "channels": ["outbound_call"],'
        ' "valid_from": "2026-11-01T00:00:00Z", "valid_to": "2027-01-01T00:00:00Z"}\n'
    )
    run_import(db_url, "campaigns", campaigns)
    targets = tmp_path / "t.csv"
    targets.write_text("campaign_id,customer_id,wave,customer_name\nK9,C2,2,旧名\n")
    report = run_import(db_url, "targets", targets)
    assert (report.imported, report.redirected, report.rejected) == (1, 1, 0)
    assert query(db_url, "SELECT campaign_id, customer_id, wave FROM target_member") == [
        ("K9", "C1", 2)
    ]
    again = run_import(db_url, "targets", targets)
    assert (again.unchanged, again.redirected, again.imported) == (1, 1, 0)
    contacts = tmp_path / "x.csv"
    contacts.write_text(
        "contact_id,customer_id,channel,started_at,result_code,campaign_id\n"
        "0190e0b0-0000-7000-8000-000000000001,C2,outbound_call,2026-11-20T02:00:00Z,"
        "reached_declined,K9\n"
    )
    report = run_import(db_url, "contacts", contacts)
    assert (report.imported, report.redirected) == (1, 1)
    assert query(db_url, "SELECT customer_id FROM contact") == [("C1",)]
    assert run_import(db_url, "contacts", contacts).unchanged == 1
    entities = query(db_url, "SELECT entity, customer_id FROM change_log ORDER BY server_seq")
    assert entities[-2:] == [("target", "C1"), ("contact", "C1")]


def test_a_contact_imported_before_the_merge_is_found_again_after_it(
    db_url: str, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + KEEP + OTHER)
    run_import(db_url, "customers", first)
    contacts = tmp_path / "x.csv"
    contacts.write_text(
        "contact_id,customer_id,channel,started_at,result_code\n"
        "0190e0b0-0000-7000-8000-000000000002,C2,outbound_call,2026-11-20T02:00:00Z,"
        "reached_declined\n"
    )  # the merge moves this contact to C1; the file still names C2
    assert run_import(db_url, "contacts", contacts).imported == 1
    merge_customers(db_url, "C1", "C2")
    again = run_import(db_url, "contacts", contacts)
    assert (again.unchanged, again.redirected, again.rejected) == (1, 1, 0)
    assert query(db_url, "SELECT customer_id FROM contact") == [("C1",)]


def test_cli_summary_says_how_many_rows_were_redirected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    _merged_store(url, tmp_path)
    export = tmp_path / "export.csv"
    export.write_text(HEADER + OTHER)
    assert main(["import", "customers", str(export), "--db", url]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "imported=0 updated=1 unchanged=0 rejected=0 redirected=1"


@pytest.mark.parametrize("own_batches", [False, True])
def test_a_merge_between_the_read_and_the_write_resurrects_nothing(
    pg_url: str, tmp_path: Path, own_batches: bool
) -> None:
    # PostgreSQL only: the customer import reads a batch before it takes the sequencer lock
    # there (SQLite reads it under its write lock)
    first = tmp_path / "first.csv"
    first.write_text(HEADER + KEEP + OTHER.replace("广州市天河路1号", "") + THIRD)
    run_import(pg_url, "customers", first)
    export = tmp_path / "export.csv"
    export.write_text(HEADER + OTHER + THIRD.replace(",,,", ",,动感地带,"))
    records = [r for r, _ in read_records(export) if isinstance(r, Record)]
    engine = make_engine(pg_url)
    reader, writer = engine.raw_connection(), engine.raw_connection()
    merged: list[str] = []

    def merge_now() -> None:  # the writer has staged the batch and not taken the lock yet
        merged.append(merge_customers(pg_url, "C1", "C2").summary())

    try:
        with reader.driver_connection.cursor() as cur:  # C2 is a stored customer when read
            staged = stage_batch(cur, records, record_keys(records, Mapping()), Mapping(), {})
        reader.driver_connection.commit()
        assert (staged.result.updated, staged.result.redirected) == (2, 0)
        chain = Chain()
        if own_batches:  # the import's own batches wrote every change up to the read
            chain.committed(range(1, staged.watermark + 1))
        result = write_staged(writer.driver_connection, staged, ready=merge_now, chain=chain)
    finally:
        reader.close()
        writer.close()
        engine.dispose()
    assert merged
    assert (result.updated, result.redirected, result.imported) == (2, 1, 0)
    assert query(pg_url, "SELECT customer_id FROM customer ORDER BY 1") == [("C1",), ("C3",)]
    kept = _attributes(pg_url, "C1")
    assert kept["contact_address"] == "广州市天河路1号"
    assert kept["previous_numbers"] == ["13900000002"]  # the merge's own work survives
    assert _attributes(pg_url, "C3")["brand"] == "动感地带"
    assert query(pg_url, "SELECT old_id, new_id FROM customer_redirect") == [("C2", "C1")]
    again = run_import(pg_url, "customers", export)
    assert again.summary() == "imported=0 updated=0 unchanged=2 rejected=0 redirected=1"


def test_merging_a_stale_row_again_removes_it(db_url: str, tmp_path: Path) -> None:
    _merged_store(db_url, tmp_path)
    engine = make_engine(db_url)
    with engine.begin() as conn:  # C2 written back, as an import before this fix did
        conn.execute(
            text(
                "INSERT INTO customer (customer_id, msisdn, name, id_type, id_number,"
                " region_code, segment_id, contact_address, row, row_seq, updated_at)"
                " SELECT 'C2', msisdn, name, id_type, id_number, region_code, segment_id,"
                " contact_address, row, 0, updated_at FROM customer WHERE customer_id = 'C3'"
            )
        )
    engine.dispose()
    report = merge_customers(db_url, "C1", "C2")
    assert report.keep == "C1"
    assert query(db_url, "SELECT customer_id FROM customer ORDER BY 1") == [("C1",), ("C3",)]
    assert query(db_url, "SELECT old_id, new_id FROM customer_redirect") == [("C2", "C1")]


def test_contacts_without_an_id_reimport_unchanged_before_and_after_a_merge(
    db_url: str, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + KEEP + OTHER)
    run_import(db_url, "customers", first)
    contacts = tmp_path / "x.csv"
    contacts.write_text(
        "customer_id,channel,started_at,result_code\nC2,outbound_call,2026-11-20T02:00:00Z,"
        "reached_declined\n"
    )  # no contact_id: it is derived from the file's values, the merged-away id among them
    assert run_import(db_url, "contacts", contacts).imported == 1
    assert run_import(db_url, "contacts", contacts).summary() == (
        "imported=0 updated=0 unchanged=1 rejected=0"
    )
    merge_customers(db_url, "C1", "C2")
    again = run_import(db_url, "contacts", contacts)
    assert again.summary() == "imported=0 updated=0 unchanged=1 rejected=0 redirected=1"
    assert query(db_url, "SELECT customer_id FROM contact") == [("C1",)]
