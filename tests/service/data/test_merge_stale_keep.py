"""A stale row of a merged-away id must not become a KEEP: no redirect loops, and candidates
propose folding the stale row instead; and on SQLite a merge that comes while a target or
contact import is under way waits for it instead of aborting it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from agentdesk_sync import merge as merge_module
from agentdesk_sync.db.engine import make_engine
from agentdesk_sync.db.errors import DataInputError
from agentdesk_sync.importers import batch as batch_module
from agentdesk_sync.importers import run_import
from agentdesk_sync.merge import find_candidates, merge_customers
from tests.service.data.store_query import query

HEADER = "customer_id,msisdn,name,region_code,segment_id,contact_address\n"
C1 = "C1,13800000001,王伟,440100,SS3,广州市天河路1号\n"
C2 = "C2,13900000002,王伟,440100,SS3,广州市天河路1号\n"
C3 = "C3,13700000003,李娜,440100,SS3,\n"


def _stale_c1(url: str, tmp_path: Path) -> None:
    """C1 merged into C2, then a stale C1 row written back (as an old import did)."""
    first = tmp_path / "first.csv"
    first.write_text(HEADER + C1 + C2 + C3)
    assert run_import(url, "customers", first).imported == 3
    merge_customers(url, "C2", "C1")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customer (customer_id, msisdn, name, id_type, id_number,"
                " region_code, segment_id, contact_address, row, row_seq, updated_at)"
                " SELECT 'C1', msisdn, name, id_type, id_number, region_code, segment_id,"
                " contact_address, row, 0, updated_at FROM customer WHERE customer_id = 'C2'"
            )
        )
    engine.dispose()


def test_a_merged_away_keep_is_refused_and_no_redirect_loops(db_url: str, tmp_path: Path) -> None:
    _stale_c1(db_url, tmp_path)
    with pytest.raises(DataInputError, match="KEEP C1 was merged into C2: 'merge C2 C1' folds"):
        merge_customers(db_url, "C1", "C2")
    # nothing changed: C2 is still the kept customer, and C1 still leads to it
    assert query(db_url, "SELECT old_id, new_id FROM customer_redirect") == [("C1", "C2")]
    assert query(db_url, "SELECT customer_id FROM customer ORDER BY 1") == [
        ("C1",),
        ("C2",),
        ("C3",),
    ]
    # the suggested merge folds the stale row
    merge_customers(db_url, "C2", "C1")
    assert query(db_url, "SELECT old_id, new_id FROM customer_redirect") == [("C1", "C2")]
    assert query(db_url, "SELECT customer_id FROM customer ORDER BY 1") == [("C2",), ("C3",)]


def test_a_keep_merged_elsewhere_names_the_customer_to_merge_into(
    db_url: str, tmp_path: Path
) -> None:
    _stale_c1(db_url, tmp_path)
    with pytest.raises(DataInputError, match=r"merge into C2 instead \('merge C2 C3'\)"):
        merge_customers(db_url, "C1", "C3")
    assert query(db_url, "SELECT old_id, new_id FROM customer_redirect") == [("C1", "C2")]


def test_candidates_propose_folding_a_stale_row_not_keeping_it(db_url: str, tmp_path: Path) -> None:
    _stale_c1(db_url, tmp_path)
    pairs = [(c.keep, c.other, c.reasons) for c in find_candidates(db_url)]
    assert pairs == [("C2", "C1", ("same_name_address",))]


def _campaign_and_file(url: str, tmp_path: Path, kind: str) -> Path:
    campaigns = tmp_path / "k.ndjson"
    campaigns.write_text(
        '{"campaign_id": "K9", "name": "宽带融合", "channels": ["outbound_call"],'
        ' "valid_from": "2026-11-01T00:00:00Z", "valid_to": "2027-01-01T00:00:00Z"}\n'
    )
    run_import(url, "campaigns", campaigns)
    path = tmp_path / f"{kind}.csv"
    if kind == "targets":
        path.write_text("campaign_id,customer_id,wave\nK9,C2,2\n")
    else:
        path.write_text(
            "contact_id,customer_id,channel,started_at,result_code,campaign_id\n"
            "0190e0b0-0000-7000-8000-000000000009,C2,outbound_call,2026-11-20T02:00:00Z,"
            "reached_declined,K9\n"
        )
    return path


@pytest.mark.parametrize("kind", ["targets", "contacts"])
def test_sqlite_a_merge_during_a_target_or_contact_import_does_not_abort_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    url = f"sqlite:///{tmp_path}/central.db"
    first = tmp_path / "first.csv"
    first.write_text(HEADER + C1 + C2 + C3)
    run_import(url, "customers", first)
    path = _campaign_and_file(url, tmp_path, kind)
    # the merge tries once, without waiting for the write lock: it commits at once if the
    # batch does not hold it, or is refused (it would wait) if the batch does
    monkeypatch.setattr(
        merge_module, "make_engine", functools.partial(make_engine, busy_timeout_ms=0)
    )
    outcome: list[str] = []
    regions = batch_module._customer_regions

    def merge_between_read_and_write(session: Any, ids: set[str]) -> dict[str, str]:
        if not outcome:  # the batch has read the redirects (none) and the stored rows
            try:
                merge_customers(url, "C1", "C2")
                outcome.append("merged")
            except OperationalError:
                outcome.append("waits")
        return regions(session, ids)

    monkeypatch.setattr(batch_module, "_customer_regions", merge_between_read_and_write)
    report = run_import(url, kind, path)  # a merge that slipped in made this fail (BUSY)
    assert (report.imported, report.rejected) == (1, 0)
    assert outcome == ["waits"]
    merge_customers(url, "C1", "C2")  # the merge that waited, once the import committed
    table = "target_member" if kind == "targets" else "contact"
    assert query(url, f"SELECT customer_id FROM {table}") == [("C1",)]
    assert query(url, "SELECT old_id, new_id FROM customer_redirect") == [("C2", "C1")]


def test_sqlite_a_writer_that_comes_during_a_merge_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/central.db"
    first = tmp_path / "first.csv"
    first.write_text(HEADER + C1 + C2 + C3)
    run_import(url, "customers", first)
    path = _campaign_and_file(url, tmp_path, "targets")
    outcome: list[str] = []
    load = merge_module._load

    def import_between_read_and_write(session: Any, customer_id: str) -> Any:
        if not outcome:  # the merge has read KEEP's redirects; a target import comes now
            try:
                engine = make_engine(url, busy_timeout_ms=0)
                try:  # a writer's transaction: it takes the write lock at its start
                    with engine.connect() as conn:
                        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                        conn.exec_driver_sql("SELECT 1")
                        conn.rollback()
                finally:
                    engine.dispose()
                outcome.append("wrote")
            except OperationalError:
                outcome.append("waits")
        return load(session, customer_id)

    monkeypatch.setattr(merge_module, "_load", import_between_read_and_write)
    merge_customers(url, "C1", "C2")
    assert outcome == ["waits"]
    assert run_import(url, "targets", path).redirected == 1
