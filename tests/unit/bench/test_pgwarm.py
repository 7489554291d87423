"""The PostgreSQL copy is warmed before P10/P12 measure it: every table a claim and a push
touch, with its indexes, is read once (into shared buffers while they have room)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg

from agentdesk_sync.seed import seed_database
from bench.pgdata import HOT_TABLES, warm
from bench.pgload import conninfo_of, load_from_sqlite


def _hot_bytes(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid) - pg_relation_size(c.oid, 'fsm')"
            " - pg_relation_size(c.oid, 'vm')) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY(%s)",
            (list(HOT_TABLES),),
        ).fetchone()
    return int(row[0]) if row else 0


def test_warming_reads_every_hot_table_and_index_once(tmp_path: Path, pg_url: str) -> None:
    central = tmp_path / "central.db"
    seed_database(f"sqlite:///{central}", 60, 4, anchor=date(2026, 6, 1))
    load_from_sqlite(central, pg_url)
    conninfo = conninfo_of(pg_url)
    expected = _hot_bytes(conninfo)

    got = warm(conninfo)

    assert expected > 0
    assert (got["buffers_mb"] + got["page_cache_mb"]) * 1e6 == expected
    assert got["buffers_mb"] * 1e6 == expected  # a small store fits in shared buffers


def test_what_does_not_fit_in_shared_buffers_goes_to_the_page_cache(
    tmp_path: Path, pg_url: str
) -> None:
    central = tmp_path / "central.db"
    seed_database(f"sqlite:///{central}", 30, 4, anchor=date(2026, 6, 1))
    load_from_sqlite(central, pg_url)
    conninfo = conninfo_of(pg_url)

    got = warm(conninfo, budget=0.0)

    assert got["buffers_mb"] == 0
    assert got["page_cache_mb"] * 1e6 == _hot_bytes(conninfo)
