"""The benchmark's PostgreSQL store is a faithful copy of its SQLite store, or it is refused."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from agentdesk_sync.seed import seed_database
from bench.pgload import (
    conninfo_of,
    copy_lines,
    differences,
    fingerprint,
    load_from_sqlite,
    sqlite_engine,
)

ANCHOR = date(2026, 6, 1)
AWKWARD = [
    ("plain", "张伟"),
    ("tab", "a\tb"),
    ("newline", "line one\nline two"),
    ("carriage", "a\r\nb"),
    ("backslash", 'C:\\temp\\new {"q": "\\"x\\""}'),
    ("null", None),
    ("looks-null", "\\N"),
    ("empty", ""),
]


def test_copy_text_brings_every_awkward_value_to_postgresql_unchanged(
    tmp_path: Path, pg_url: str
) -> None:
    src = sqlite3.connect(tmp_path / "t.db")
    src.execute("CREATE TABLE t (k TEXT, v TEXT, n INTEGER)")
    src.executemany(
        "INSERT INTO t VALUES (?, ?, ?)", [(k, v, i) for i, (k, v) in enumerate(AWKWARD)]
    )
    src.commit()
    with psycopg.connect(conninfo_of(pg_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (k text, v text, n bigint)")
        with conn.cursor().copy("COPY t (k, v, n) FROM STDIN") as copy:
            for chunk in copy_lines(src, "t", ["k", "v", "n"]):
                copy.write(chunk)
        back = conn.execute("SELECT k, v, n FROM t ORDER BY n").fetchall()
    assert back == [(k, v, i) for i, (k, v) in enumerate(AWKWARD)]


def test_the_copied_store_matches_the_seeded_sqlite_store(tmp_path: Path, pg_url: str) -> None:
    central = tmp_path / "central.db"
    seed_database(f"sqlite:///{central}", 120, 4, anchor=ANCHOR)
    counts = load_from_sqlite(central, pg_url)
    assert counts["customer"] == 120
    lite, pg = sqlite_engine(central), create_engine(pg_url)
    try:
        assert differences(fingerprint(lite), fingerprint(pg)) == []
        with pg.begin() as conn:  # the copy is a working store: indexes and keys are back
            indexes = conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = "
                                        "'customer'")).scalars().all()  # fmt: skip
            assert "ix_customer_msisdn" in indexes
            conn.execute(text("UPDATE customer SET name = 'changed' WHERE customer_id = "
                              "(SELECT min(customer_id) FROM customer)"))  # fmt: skip
        assert differences(fingerprint(lite), fingerprint(pg)) == [
            "customer: same 120 rows, first 500 differ"
        ]
    finally:
        lite.dispose()
        pg.dispose()


def test_a_schema_that_drifted_is_refused(tmp_path: Path, pg_url: str) -> None:
    central = tmp_path / "central.db"
    seed_database(f"sqlite:///{central}", 20, 4, anchor=ANCHOR)
    con = sqlite3.connect(central)
    con.execute("ALTER TABLE customer ADD COLUMN nickname TEXT")
    con.commit()
    con.close()
    with pytest.raises(RuntimeError, match="table customer"):
        load_from_sqlite(central, pg_url)
