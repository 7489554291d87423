"""Imports: upsert by business key, change-log entries, and a reject report with line numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from agentdesk.paths import resource_path
from agentdesk_sync.cli import main
from agentdesk_sync.db.errors import DataInputError
from agentdesk_sync.importers import run_import
from tests.service.data.store_query import query

TELCO = Path(__file__).parents[2] / "data" / "telco_mlc_churn.csv"
HEADER = "customer_id,msisdn,name,region_code,segment_id,birth_date,gender,note,hobby\n"


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_telco_sample_imports_once(db_url: str) -> None:
    mapping = resource_path("data", "maps", "telco_mlc_churn.toml")
    first = run_import(db_url, "customers", TELCO, map_path=mapping)
    assert first.summary() == "imported=5000 updated=0 unchanged=0 rejected=0"
    second = run_import(db_url, "customers", TELCO, map_path=mapping)
    assert second.summary() == "imported=0 updated=0 unchanged=5000 rejected=0"
    assert query(db_url, "SELECT count(*) FROM change_log") == [(5000,)]
    row = query(db_url, "SELECT row FROM customer WHERE customer_id = 'MLC000002'")[0][0]
    view = row if isinstance(row, dict) else orjson.loads(str(row))
    assert view["attributes"]["msisdn"] == "19800000002"
    assert view["attributes"]["extra"]["state"] == "KS"
    assert view["attributes"]["extra"]["total_day_minutes"] == "265.1"
    assert view["churn"]["churn_type"] == "no"


def test_bad_rows_are_reported_by_physical_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    source = tmp_path / "customers.csv"
    source.write_bytes(
        HEADER.encode()
        + 'C1,13800000001,王伟,440100,SS3,1980-02-03,male,"two\nlines",fishing\n'.encode()
        + "C2,13800000002,李娜,440100,SS9,1985-13-01,female,,\n".encode()
        + "C3,,张三,440300,SS3,1990-01-01,male,,\n".encode()
        + "C4,13800000004,赵六,440300,SS42,1990-01-01,male,,\n".encode()
        + b"C5,13800000005,\xff\xfe,440100,SS3,1990-01-01,male,,\n"
        + "C6,13800000006,钱七,440100,SS1,1970-05-05,female,,tennis\n".encode()
    )
    rejects = tmp_path / "rejects.csv"
    report = run_import(url, "customers", source, rejects_path=rejects)
    assert report.summary() == "imported=2 updated=0 unchanged=0 rejected=4"
    rows = _rejects(rejects)
    assert [(r["line"], r["column"]) for r in rows] == [
        ("4", "birth_date"), ("5", "msisdn"), ("6", "segment_id"), ("7", ""),
    ]  # fmt: skip
    assert rows[0]["value"] == "1985-13-01"
    assert "YYYY-MM-DD" in rows[0]["reason"]
    assert rows[1]["reason"] == "required field is missing"
    assert "SS1" in rows[2]["reason"]
    assert "utf-8" in rows[3]["reason"]
    hobby = query(url, "SELECT row FROM customer WHERE customer_id = 'C6'")[0][0]
    assert orjson.loads(str(hobby))["attributes"]["extra"] == {"hobby": "tennis"}


def test_changed_row_is_updated_and_published(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    source = tmp_path / "c.csv"
    source.write_text(HEADER + "C1,13800000001,王伟,440100,SS3,1980-02-03,male,,\n")
    run_import(url, "customers", source)
    source.write_text(HEADER + "C1,13800000001,王伟,440100,SS4,1980-02-03,male,,\n")
    report = run_import(url, "customers", source)
    assert (report.imported, report.updated, report.unchanged) == (0, 1, 0)
    assert query(url, "SELECT segment_id, row_seq FROM customer") == [("SS4", 2)]
    log = query(url, "SELECT server_seq, entity, entity_id, region_code FROM change_log")
    assert log == [(1, "customer", "C1", "440100"), (2, "customer", "C1", "440100")]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    source = tmp_path / "c.csv"
    source.write_text(HEADER + "C1,13800000001,王伟,440100,SS3,1980-02-03,male,,\n")
    report = run_import(url, "customers", source, dry_run=True)
    assert report.imported == 1
    assert "dry run" in report.summary()
    assert query(url, "SELECT count(*) FROM customer") == [(0,)]
    assert query(url, "SELECT count(*) FROM change_log") == [(0,)]


def test_mapping_options_and_defaults(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    source = tmp_path / "c.csv"
    source.write_text(
        "id;phone;who;born\nA1;13900000001;周杰;03/02/1980\nA2;13900000002;吴敏;31/02/1980\n"
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\ncustomer_id = "id"\nmsisdn = "phone"\nname = "who"\nbirth_date = "born"\n'
        '[defaults]\nregion_code = "440300"\n[options]\ndelimiter = ";"\ndate_format = "%d/%m/%Y"\n'
    )
    rejects = tmp_path / "r.csv"
    report = run_import(url, "customers", source, map_path=mapping, rejects_path=rejects)
    assert (report.imported, report.rejected) == (1, 1)
    assert _rejects(rejects)[0]["line"] == "3"
    assert _rejects(rejects)[0]["column"] == "born"
    row = orjson.loads(str(query(url, "SELECT row FROM customer")[0][0]))
    assert row["attributes"]["birth_date"] == "1980-02-03"
    assert row["attributes"]["region_code"] == "440300"


def test_campaigns_targets_contacts_ndjson(db_url: str, tmp_path: Path) -> None:
    customers = tmp_path / "c.csv"
    customers.write_text(HEADER + "C1,13800000001,王伟,440100,SS3,1980-02-03,male,,\n")
    run_import(db_url, "customers", customers)
    campaigns = tmp_path / "k.ndjson"
    campaigns.write_text(
        '{"campaign_id": "K9", "name": "宽带融合", "channels": ["outbound_call", "sms"],'
        ' "valid_from": "2026-11-01T00:00:00Z", "valid_to": "2027-01-01T00:00:00Z"}\n'
        "not json\n"
    )
    report = run_import(db_url, "campaigns", campaigns)
    assert (report.imported, report.rejected, report.rejects[0].line) == (1, 1, 2)
    targets = tmp_path / "t.csv"
    targets.write_text("campaign_id,customer_id,wave,in_control_group\nK9,C1,2,是\nK9,C404,1,否\n")
    report = run_import(db_url, "targets", targets)
    assert (report.imported, report.rejects[0].line, report.rejects[0].reason) == (
        1, 3, "no such customer",
    )  # fmt: skip
    assert query(db_url, "SELECT wave, in_control_group FROM target_member") == [(2, True)]
    contacts = tmp_path / "x.csv"
    contacts.write_text(
        "contact_id,customer_id,channel,started_at,result_code,campaign_id\n"
        "0190e0b0-0000-7000-8000-000000000001,C1,outbound_call,2026-11-20T02:00:00Z,"
        "reached_declined,K9\n"
    )
    assert run_import(db_url, "contacts", contacts).imported == 1
    assert run_import(db_url, "contacts", contacts).unchanged == 1
    contacts.write_text(contacts.read_text().replace("reached_declined", "reached_accepted"))
    clash = run_import(db_url, "contacts", contacts)
    assert clash.rejects[0].reason == "a different contact with this id is already recorded"
    log = query(db_url, "SELECT entity FROM change_log ORDER BY server_seq")
    assert [e for (e,) in log] == ["customer", "campaign", "target", "contact"]


def test_cli_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    source = tmp_path / "c.csv"
    source.write_text(HEADER + "C1,13800000001,王伟,440100,SS3,1980-02-03,male,,\n")
    assert main(["import", "customers", str(source), "--db", url]) == 0
    assert capsys.readouterr().out.strip() == "imported=1 updated=0 unchanged=0 rejected=0"
    assert main(["import", "customers", str(tmp_path / "missing.csv"), "--db", url]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["import", "people", str(source), "--db", url]) == 2


def test_unreadable_mapping_cannot_run(tmp_path: Path) -> None:
    bad = tmp_path / "map.toml"
    bad.write_text("[columns\n")
    with pytest.raises(DataInputError, match="not valid TOML"):
        run_import(f"sqlite:///{tmp_path}/c.db", "customers", TELCO, map_path=bad)
