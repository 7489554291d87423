"""The deterministic data set: realistic, coherent, reproducible, and loaded only once."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import orjson
import pytest
from id_validator import validator
from sqlalchemy import text

from agentdesk.protocol import to_row
from agentdesk_sync.db.engine import make_engine, migrate
from agentdesk_sync.db.errors import DataInputError
from agentdesk_sync.seed import generate, generate_chunk, loader, seed_database
from agentdesk_sync.seed.identity import id_check_char
from agentdesk_sync.seed.tables import copy_text

ANCHOR = date(2026, 11, 26)
TABLES = ("customer", "holding", "usage_month", "contact", "target_member", "marketing_order",
          "campaign", "offer")  # fmt: skip


@pytest.fixture(scope="module")
def chunk():  # type: ignore[no-untyped-def]
    return generate_chunk(7, 0, 1500, ANCHOR)


def test_id_numbers_agree_with_the_customer(chunk) -> None:  # type: ignore[no-untyped-def]
    for index, row in enumerate(chunk.customers):
        attrs = row["attributes"]
        number = attrs["id_number"]
        if index % 50 == 0:  # id-validator is slow (~0.1 s a call)
            assert validator.is_valid(number), number
        assert id_check_char(number[:17]) == number[17]
        assert number[:6] == attrs["district_code"]
        assert number[6:14] == attrs["birth_date"].replace("-", "")
        assert (int(number[16]) % 2 == 1) == (attrs["gender"] == "male")
        assert attrs["district_code"][:4] + "00" == attrs["region_code"]


def test_addresses_are_coherent_and_concentrated(chunk) -> None:  # type: ignore[no-untyped-def]
    regions = Counter(r["attributes"]["region_code"] for r in chunk.customers)
    assert regions.most_common(2)[0][0] == "440100"
    assert regions["440100"] > 0.2 * len(chunk.customers)
    assert regions["440300"] > 0.12 * len(chunk.customers)
    assert len(regions) > 20  # a long tail
    attrs = [r["attributes"] for r in chunk.customers]
    gz = next(a for a in attrs if a["region_code"] == "440100")
    assert gz["contact_address"].startswith("广东省广州市")


def test_mobile_numbers_unique_apart_from_families(chunk) -> None:  # type: ignore[no-untyped-def]
    numbers = Counter(r["attributes"]["msisdn"] for r in chunk.customers)
    shared = [n for n, count in numbers.items() if count > 1]
    assert len(shared) < 0.02 * len(chunk.customers)
    prefixes = {n[:2] for n in numbers}
    assert {"13", "15", "17", "18", "19"} <= prefixes
    assert all(len(n) == 11 for n in numbers)


def test_segments_are_skewed_to_the_mass_market(chunk) -> None:  # type: ignore[no-untyped-def]
    segments = Counter(r["attributes"]["segment_id"] for r in chunk.customers)
    mass = sum(segments[s] for s in ("SS3", "SS4", "SS5", "SS9"))
    small = sum(segments[s] for s in ("SS1", "SS2", "SS6", "SS7"))
    assert mass > 0.6 * len(chunk.customers)
    assert small < 0.15 * len(chunk.customers)
    brands = {r["attributes"]["brand"] for r in chunk.customers}
    assert brands == {"全球通", "动感地带", "神州行"}


def test_names_have_pinyin_and_flags_have_realistic_shares(chunk) -> None:  # type: ignore[no-untyped-def]
    attrs = [r["attributes"] for r in chunk.customers]
    first = attrs[0]
    assert 2 <= len(first["name"]) <= 3
    assert first["extra"]["name_pinyin"].split()[0].isalpha()
    sensitive = sum(a["is_sensitive"] for a in attrs) / len(attrs)
    assert 0.005 < sensitive < 0.05
    assert all(a["sensitive_channels"] for a in attrs if a["is_sensitive"])
    managers = [a["account_manager_id"] for a in attrs if a["account_manager_id"]]
    assert managers
    assert all(m.startswith("am_") for m in managers)


def test_volumes_per_customer(chunk) -> None:  # type: ignore[no-untyped-def]
    n = len(chunk.customers)
    assert 2.5 < len(chunk.holdings) / n < 3.5
    assert 4.5 < len(chunk.contacts) / n < 5.5
    assert 6 <= len(chunk.usage) / n <= 12
    channels = {c["channel"] for c in chunk.contacts}
    assert {"outbound_call", "inbound_call", "store", "field_visit", "sms"} <= channels
    control = [t for t in chunk.targets if t["in_control_group"]]
    assert 0.05 < len(control) / len(chunk.targets) < 0.15
    assert any(o["status"] == "open" for o in chunk.orders)


def test_rows_are_the_wire_form_of_the_domain_objects(chunk) -> None:  # type: ignore[no-untyped-def]
    bundle = next(generate(3, 7, ANCHOR))
    wire = chunk.customers[0]
    assert orjson.loads(orjson.dumps(to_row(bundle.view))) == wire
    ours = [c for c in chunk.contacts if c["customer_id"] == "C00000001"]
    assert [orjson.loads(orjson.dumps(to_row(c))) for c in bundle.contacts] == ours
    assert bundle.view.attributes.customer_id == "C00000001"
    usage = [u for u in chunk.usage if u["customer_id"] == "C00000001"]
    assert [orjson.loads(orjson.dumps(to_row(u))) for u in bundle.usage] == usage


def test_every_customer_has_recent_usage_and_ordered_contacts(chunk) -> None:  # type: ignore[no-untyped-def]
    months: dict[str, list[str]] = {}
    for u in chunk.usage:
        months.setdefault(u["customer_id"], []).append(u["month"])
    assert len(months) == len(chunk.customers)
    for own in months.values():
        assert 6 <= len(own) <= 12
        assert own == sorted(own)
        assert own[-1] == "2026-10"  # the month before the anchor
    started: dict[str, list[tuple[str, str]]] = {}
    for c in chunk.contacts:
        assert "2026-08-27" < c["started_at"] < "2026-11-26"
        assert c["started_at"] <= c["ended_at"]
        started.setdefault(c["customer_id"], []).append((c["started_at"], c["contact_id"]))
    assert all(own == sorted(own) for own in started.values())
    assert len({c["contact_id"] for c in chunk.contacts}) == len(chunk.contacts)


def _by_customer(rows, upto: str) -> dict[str, list[bytes]]:  # type: ignore[no-untyped-def]
    tables = {}
    for name in ("holdings", "usage", "contacts", "targets", "orders"):
        tables[name] = [orjson.dumps(r) for r in getattr(rows, name) if r["customer_id"] <= upto]
    tables["customers"] = [
        orjson.dumps(r) for r in rows.customers if r["attributes"]["customer_id"] <= upto
    ]
    return tables


def test_a_customer_does_not_depend_on_how_many_are_generated(chunk) -> None:  # type: ignore[no-untyped-def]
    small = generate_chunk(7, 0, 40, ANCHOR)
    assert len(small.customers) == 40
    assert _by_customer(small, "C00000040") == _by_customer(chunk, "C00000040")


# The digest of a fixed slice of the data set. It changes only when the generator does: then bump
# the loader's generator version, and the benchmark caches need rebuilding.
PINNED = "9b50f980bd6d06115c603977357f47189ecc13c38ba2217b66042ee6720fea0d"


def test_the_generated_data_are_pinned() -> None:
    digest = hashlib.sha256()
    rows = generate_chunk(3, 1, 5_600, ANCHOR)
    for name in ("customers", "holdings", "usage", "contacts", "targets", "orders"):
        for row in getattr(rows, name):
            digest.update(orjson.dumps(row))
    assert len(rows.customers) == 600
    assert digest.hexdigest() == PINNED


def _dump_hash(url: str) -> str:
    engine = make_engine(url)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in TABLES:
            for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")):
                digest.update(repr(tuple(row)).encode())
    engine.dispose()
    return digest.hexdigest()


def test_same_seed_gives_identical_databases(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    seed_database(first, 150, 5, anchor=ANCHOR)
    seed_database(second, 150, 5, anchor=ANCHOR)
    assert _dump_hash(first) == _dump_hash(second)
    third = f"sqlite:///{tmp_path}/c.db"
    seed_database(third, 150, 6, anchor=ANCHOR)
    assert _dump_hash(third) != _dump_hash(first)


def test_seed_loads_once(db_url: str) -> None:
    report = seed_database(db_url, 250, 3, anchor=ANCHOR)
    assert report.rows["customer"] == 250
    assert not report.skipped
    again = seed_database(db_url, 250, 3, anchor=ANCHOR)
    assert again.skipped
    assert "nothing to do" in again.summary()
    with pytest.raises(DataInputError, match="already seeded with --customers 250 --seed 3"):
        seed_database(db_url, 300, 3, anchor=ANCHOR)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
        changes = conn.execute(text("SELECT count(*) FROM change_log")).scalar()
        seqs = conn.execute(text("SELECT max(row_seq) FROM customer")).scalar()
    engine.dispose()
    assert counts["customer"] == 250
    assert counts["contact"] == report.rows["contact"]
    assert counts["campaign"] == 8
    assert changes == 0
    assert seqs == 0


def test_seed_keeps_the_lookup_indexes(db_url: str) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    migrate_names = _index_names(engine)
    engine.dispose()
    seed_database(db_url, 120, 4, anchor=ANCHOR)
    engine = make_engine(db_url)
    names = _index_names(engine)
    engine.dispose()
    assert {"ix_customer_msisdn", "ix_customer_id_number", "ix_contact_customer_started"} <= names
    assert migrate_names <= names


def _index_names(engine) -> set[str]:  # type: ignore[no-untyped-def]
    if engine.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text(sql))}


def _rows(url: str) -> dict[str, list[bytes]]:
    engine = make_engine(url)
    found: dict[str, list[bytes]] = {}
    with engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f"SELECT row FROM {table}")).scalars()
            parsed = [r if isinstance(r, dict) else orjson.loads(str(r)) for r in rows]
            found[table] = sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in parsed)
    engine.dispose()
    return found


def test_postgresql_store_holds_the_same_rows_as_sqlite(pg_url: str, tmp_path: Path) -> None:
    lite = f"sqlite:///{tmp_path}/a.db"
    seed_database(lite, 130, 8, anchor=ANCHOR)
    seed_database(pg_url, 130, 8, anchor=ANCHOR)
    assert _rows(pg_url) == _rows(lite)
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        started = conn.execute(text("SELECT min(started_at), bool_or(reached) FROM contact")).one()
    engine.dispose()
    assert started[0].date() < ANCHOR
    assert started[1] is True


def test_copy_text_keeps_awkward_characters(pg_url: str) -> None:
    awkward = ("tab\there", "line\nbreak", "back\\slash\r", None, True, 7)
    engine = make_engine(pg_url)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        with driver.cursor() as cur:  # type: ignore[union-attr]
            cur.execute("CREATE TEMP TABLE t (a text, b text, c text, d text, e boolean, f int)")
            with cur.copy("COPY t FROM STDIN") as copy:
                copy.write(copy_text([awkward]))
            cur.execute("SELECT * FROM t")
            assert cur.fetchone() == awkward
    finally:
        raw.close()
        engine.dispose()


def test_a_store_seeded_by_another_generator_version_is_not_taken_as_seeded(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_database(db_url, 250, 3, anchor=ANCHOR)
    monkeypatch.setattr(loader, "GENERATOR_VERSION", loader.GENERATOR_VERSION + 1)
    older = loader.GENERATOR_VERSION - 1
    with pytest.raises(DataInputError, match=f"by generator version {older}; this is version"):
        seed_database(db_url, 250, 3, anchor=ANCHOR)


def _seed_folders(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith("agentdesk-seed-")]


def test_scratch_files_use_the_ram_folder_only_with_room_for_the_chunks_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "_RAM_DIR", str(tmp_path))
    fs = os.statvfs(tmp_path)
    free = fs.f_bavail * fs.f_frsize
    assert loader._scratch_place(free + 1) is None  # too small (a container's 64 MB /dev/shm)
    assert loader._scratch_place(0) == (str(tmp_path) if free > 64 * 1024 * 1024 else None)
    # a 1 M seed has chunks of several hundred MB in flight at once
    assert loader._scratch_need(1_000_000, 2) > 200 * 1024 * 1024


def test_a_failed_or_killed_seed_leaves_no_scratch_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ram = tmp_path / "ram"
    ram.mkdir()
    monkeypatch.setattr(loader, "_RAM_DIR", str(ram))
    monkeypatch.setattr(loader, "_RAM_HEADROOM", 0)
    monkeypatch.setattr(loader, "_SCRATCH_BYTES_PER_CUSTOMER", 1)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    left = ram / f"agentdesk-seed-{int(gone.stdout)}-killed"  # a run killed with SIGKILL
    left.mkdir()
    (left / "chunk-0.db").write_bytes(b"x" * 1024)

    def full(raw: object, scratch: str) -> None:
        assert os.path.dirname(os.path.dirname(scratch)) == str(ram)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(loader, "_insert_sqlite", full)
    with pytest.raises(sqlite3.OperationalError):
        seed_database(f"sqlite:///{tmp_path}/central.db", 250, 3, anchor=ANCHOR)
    assert _seed_folders(ram) == []
