"""Start-up migrations: backup first, one transaction, byte-identical restore on failure."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agentdesk.store import CacheDB, MigrationFailed
from agentdesk.store.migrate import (
    DEFAULT_SCRIPTS,
    HEAD,
    PAGE_SIZE,
    current_revision,
    head_revision,
    upgrade,
)
from agentdesk.store.outbox import record_outcome
from tests.unit.store.conftest import make_contact

GOOD = '''"""Add a column to the outbox."""
import sqlalchemy as sa
from alembic import op

revision = "9002"
down_revision = HEAD
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.execute("UPDATE outbox SET note = 'migrated'")
'''

BAD = '''"""Half a migration, then a failure."""
import sqlalchemy as sa
from alembic import op

revision = "9002"
down_revision = HEAD
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.execute("DELETE FROM outbox")
    raise RuntimeError("migration bug")
'''


def scripts_with(tmp_path: Path, text: str) -> Path:
    """The real scripts plus one test revision ``9002`` on top of the current head."""
    target = tmp_path / "scripts"
    shutil.copytree(DEFAULT_SCRIPTS, target, ignore=shutil.ignore_patterns("__pycache__"))
    body = text.replace("HEAD", repr(head_revision()))
    (target / "versions" / "v9002_test.py").write_text(body, encoding="utf-8")
    return target


@pytest.fixture
def cache_with_outbox(tmp_path: Path) -> Path:
    path = tmp_path / "cache.db"
    with CacheDB.open(path) as db, db.writer() as w:
        for i in range(3):
            record_outcome(w, make_contact(minutes=i))
    return path


def outbox_ids(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM outbox ORDER BY client_seq")]
    finally:
        conn.close()


def test_fresh_file_is_created_at_head(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    result = upgrade(path)
    assert result.from_revision is None
    assert result.to_revision == head_revision() == current_revision(path)
    assert result.backup is None


def _page_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def test_a_new_cache_gets_big_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    fresh = tmp_path / "new.db"
    CacheDB.open(fresh).close()
    assert _page_size(fresh) == PAGE_SIZE == 8192  # three ~2 KB customer rows per page
    old = tmp_path / "old.db"
    upgrade(old, target="0001")  # made by a version that left SQLite's 4 KB default
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("VACUUM")
    conn.close()
    with CacheDB.open(old) as db, db.writer() as w:
        record_outcome(w, make_contact())
    assert _page_size(old) == 4096  # upgraded in place, never rewritten
    assert len(outbox_ids(old)) == 1


def test_upgrade_backs_up_first_and_keeps_the_outbox(
    tmp_path: Path, cache_with_outbox: Path
) -> None:
    before = outbox_ids(cache_with_outbox)
    result = upgrade(cache_with_outbox, script_location=scripts_with(tmp_path, GOOD))
    assert result.changed
    assert (result.from_revision, result.to_revision) == (head_revision(), "9002")
    assert result.backup is not None
    assert outbox_ids(result.backup) == before
    assert outbox_ids(cache_with_outbox) == before
    conn = sqlite3.connect(cache_with_outbox)
    notes = {r[0] for r in conn.execute("SELECT note FROM outbox")}
    conn.close()
    assert notes == {"migrated"}


def test_running_again_changes_nothing(tmp_path: Path, cache_with_outbox: Path) -> None:
    scripts = scripts_with(tmp_path, GOOD)
    upgrade(cache_with_outbox, script_location=scripts)
    again = upgrade(cache_with_outbox, script_location=scripts)
    assert not again.changed
    assert again.backup is None
    assert len(list(cache_with_outbox.parent.glob("*.bak"))) == 1


def test_failed_upgrade_restores_the_backup_byte_for_byte(
    tmp_path: Path, cache_with_outbox: Path
) -> None:
    before = outbox_ids(cache_with_outbox)
    with pytest.raises(MigrationFailed) as caught:
        upgrade(cache_with_outbox, script_location=scripts_with(tmp_path, BAD))
    backup = caught.value.backup
    assert backup is not None
    assert cache_with_outbox.read_bytes() == backup.read_bytes()
    assert "could not be upgraded" in caught.value.sentence
    assert "sync is paused" in caught.value.sentence
    assert str(backup) in caught.value.sentence
    assert outbox_ids(cache_with_outbox) == before
    assert current_revision(cache_with_outbox) == head_revision()


def test_the_whole_upgrade_is_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    with pytest.raises(MigrationFailed) as caught:
        upgrade(path, script_location=scripts_with(tmp_path, BAD))
    assert caught.value.backup is None
    conn = sqlite3.connect(path)
    tables = conn.execute("SELECT name FROM sqlite_master").fetchall()
    conn.close()
    assert tables == []  # the real revisions' tables were rolled back with 9002's failure


def test_v1_cache_upgrades_to_head_with_names_searchable(tmp_path: Path) -> None:
    from agentdesk.store.search import search

    path = tmp_path / "v1.db"
    upgrade(path, target="0001")
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO customer (customer_id, msisdn, id_number, id_rev, name, name_chars, "
        "name_pinyin, region_code, segment_id, value_class, vip_level, value_tier, arpu_3m, "
        "churn_risk, churn_level, number_status, row, row_seq, synced_at) VALUES "
        "('C00000001', '13800138000', '', '', '欧阳娜娜', '欧 阳 娜 娜', 'ouyangnana', '440100', "
        "'SS1', '', '', 3, 0, 0, 'low', '', '{}', 1, '')"
    )
    conn.commit()
    conn.close()
    result = upgrade(path)
    assert result.from_revision == "0001"
    assert result.backup is not None
    with CacheDB.open(path) as db, db.reader() as r:
        assert [h.name for h in search(r, "欧阳")] == ["欧阳娜娜"]
        assert [h.name for h in search(r, "娜")] == ["欧阳娜娜"]
        assert [h.matched for h in search(r, "欧阳娜娜")] == ["name"]
        head = r.execute("SELECT name_head FROM customer").fetchone()[0]
    assert head == "欧 欧阳 欧阳娜 欧阳娜娜"


def test_a_0003_cache_gets_covering_digit_indexes_without_a_backup(tmp_path: Path) -> None:
    from agentdesk.store.search import search

    path = tmp_path / "v3.db"
    upgrade(path, target="0003")
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO customer (customer_id, msisdn, id_number, id_rev, name, name_chars, "
        "name_pinyin, region_code, segment_id, value_class, vip_level, value_tier, arpu_3m, "
        "churn_risk, churn_level, number_status, row, row_seq, synced_at) VALUES "
        "('C00000001', '13800138000', '440103199001011234', '432110100991301044', '欧阳娜娜', "
        "'欧 阳 娜 娜', 'ouyangnana', '440100', 'SS1', '', 'gold', 2, 0, 0, 'low', '', '{}', 1, '')"
    )
    conn.commit()
    conn.close()
    result = upgrade(path)
    assert (result.from_revision, result.to_revision) == ("0003", HEAD)
    assert result.backup is None  # only an index changed: no 10 GB copy of a 1 M cache
    assert list(tmp_path.glob("*.bak")) == []
    with CacheDB.open(path) as db, db.reader() as r:
        ddl = dict(r.execute("SELECT name, sql FROM sqlite_master WHERE name LIKE 'ix_customer_%'"))
        found = [search(r, text) for text in ("13800", "4401031990", "1234")]
    assert "(msisdn, customer_id, name, id_number, region_code" in ddl["ix_customer_msisdn"]
    assert "(id_number, customer_id, name, msisdn, region_code" in ddl["ix_customer_id_number"]
    assert "(id_rev, customer_id, name, msisdn, id_number" in ddl["ix_customer_id_rev"]
    for hits, matched in zip(found, ("phone", "id_prefix", "id_suffix"), strict=True):
        assert [(h.name, h.id_number, h.vip_level, h.value_tier, h.matched) for h in hits] == [
            ("欧阳娜娜", "440103199001011234", "gold", 2, matched)
        ]


def test_file_from_a_newer_agentdesk_is_left_alone(tmp_path: Path, cache_with_outbox: Path) -> None:
    from agentdesk.store import CacheTooNewError

    upgrade(cache_with_outbox, script_location=scripts_with(tmp_path, GOOD))
    before = cache_with_outbox.read_bytes()
    with pytest.raises(CacheTooNewError) as caught:
        upgrade(cache_with_outbox)
    assert "newer version" in caught.value.sentence
    assert cache_with_outbox.read_bytes() == before
    assert len(list(cache_with_outbox.parent.glob("*.bak"))) == 1


def test_head_constant_is_alembics_head() -> None:
    assert head_revision(DEFAULT_SCRIPTS) == HEAD


def test_a_current_cache_opens_without_loading_alembic_or_sqlalchemy(tmp_path: Path) -> None:
    # a third of a cold start's imports: the app must not pay them when there is nothing to do
    path = tmp_path / "cache.db"
    CacheDB.open(path).close()
    code = (
        "import sys; from pathlib import Path; from agentdesk.store import CacheDB; "
        f"db = CacheDB.open(Path({str(path)!r})); db.close(); "
        "print(sorted(m for m in ('alembic', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    assert current_revision(path) == HEAD


def test_a_0004_cache_folds_each_customers_months_into_one_row(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    upgrade(path, target="0004")
    conn = sqlite3.connect(path)
    months = [  # stored out of month order, as a feed can deliver them
        ("C00000001", "2026-03", 7), ("C00000001", "2026-01", 9), ("C00000001", "2026-02", 3),
        ("C00000002", "2026-01", 4),
    ]  # fmt: skip
    conn.executemany(
        "INSERT INTO usage_month (usage_id, customer_id, month, row, row_seq) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (f"{c}:{m}", c, m, f'{{"customer_id":"{c}","month":"{m}","arpu":1.5}}', s)
            for c, m, s in months
        ],
    )
    saved = [
        ["index", "ix_usage_month_customer_month",
         "CREATE INDEX ix_usage_month_customer_month ON usage_month (customer_id, month)"],
        ["index", "ix_holding_customer_id",
         "CREATE INDEX ix_holding_customer_id ON holding (customer_id)"],
    ]  # fmt: skip
    conn.execute("INSERT INTO app_meta (key, value) VALUES ('bulk_ddl', ?)", (json.dumps(saved),))
    conn.commit()
    conn.close()

    result = upgrade(path)

    assert (result.from_revision, result.backup) == ("0004", None)  # one transaction: no copy
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT customer_id, row, row_seq FROM customer_usage ORDER BY 1"
    ).fetchall()
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    bulk = json.loads(
        conn.execute("SELECT value FROM app_meta WHERE key = 'bulk_ddl'").fetchone()[0]
    )
    conn.close()
    assert [
        (cid, [u["month"] for u in json.loads(row)["months"]], seq) for cid, row, seq in rows
    ] == [
        ("C00000001", ["2026-01", "2026-02", "2026-03"], 9),
        ("C00000002", ["2026-01"], 4),
    ]
    assert json.loads(rows[0][1])["customer_id"] == "C00000001"
    assert "usage_month" not in tables
    assert [name for _kind, name, _sql in bulk] == ["ix_holding_customer_id"]
