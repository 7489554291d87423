"""Before P10/P12 measure the PostgreSQL copy, the tables autovacuum would visit during the rows
(a bulk-loaded store never vacuumed) are vacuumed, so autovacuum does not run in the middle of a
measurement; a table below autovacuum's thresholds is left alone."""

from __future__ import annotations

import psycopg

from bench.pgdata import vacuum_loaded
from bench.pgload import conninfo_of


def _stats(conninfo: str, table: str) -> tuple[int, bool]:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT n_ins_since_vacuum, last_vacuum IS NOT NULL FROM pg_stat_user_tables"
            " WHERE relname = %s",
            (table,),
        ).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def test_a_loaded_table_over_the_insert_threshold_is_vacuumed_first(pg_url: str) -> None:
    conninfo = conninfo_of(pg_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # autovacuum kept off this table so that only the bench's own vacuum can reset it
        conn.execute("CREATE TABLE loaded (n int) WITH (autovacuum_enabled = false)")
        conn.execute("CREATE TABLE touched (n int) WITH (autovacuum_enabled = false)")
        conn.execute("INSERT INTO loaded SELECT generate_series(1, 5000)")
        conn.execute("INSERT INTO touched SELECT generate_series(1, 10)")
        conn.execute("SELECT pg_stat_force_next_flush()")

    got = vacuum_loaded(conninfo)

    assert "loaded" in got["tables"]
    assert "touched" not in got["tables"]
    assert _stats(conninfo, "loaded") == (0, True)
    assert _stats(conninfo, "touched") == (10, False)
