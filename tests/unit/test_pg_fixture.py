"""The throwaway PostgreSQL cluster works as the service's tests need it."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, text

from tests.pg import PgCluster


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_pg_url_accepts_a_table_round_trip(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE note (id int PRIMARY KEY, body text)"))
            conn.execute(text("INSERT INTO note VALUES (1, '你好')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT body FROM note")).scalar_one() == "你好"
    finally:
        engine.dispose()


def test_two_test_databases_are_isolated(pg_cluster: PgCluster) -> None:
    first, second = pg_cluster.create_database(), pg_cluster.create_database()
    try:
        with psycopg.connect(pg_cluster.conninfo(first), autocommit=True) as conn:
            conn.execute("CREATE TABLE only_here (x int)")
        with psycopg.connect(pg_cluster.conninfo(second), autocommit=True) as conn:
            found = conn.execute("SELECT to_regclass('only_here') IS NOT NULL").fetchone()
        assert found == (False,)
    finally:
        pg_cluster.drop_database(first)
        pg_cluster.drop_database(second)


def test_pg_url_starts_empty(pg_url: str) -> None:
    with psycopg.connect(_plain(pg_url)) as conn:
        count = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert count == (0,)


def test_cluster_survives_a_crash_and_restart(pg_cluster: PgCluster, pg_url: str) -> None:
    with psycopg.connect(_plain(pg_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    pg_cluster.stop(mode="immediate")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_plain(pg_url), connect_timeout=2).close()
    pg_cluster.start()
    with psycopg.connect(_plain(pg_url)) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone() == (7,)


def test_restart_keeps_the_port(pg_cluster: PgCluster) -> None:
    port = pg_cluster.port
    pg_cluster.restart()
    assert pg_cluster.port == port
    with psycopg.connect(pg_cluster.conninfo()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_db_url_gives_a_usable_store(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x int)"))
            conn.execute(text("INSERT INTO t VALUES (3)"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT sum(x) FROM t")).scalar_one() == 3
        assert engine.dialect.name in {"sqlite", "postgresql"}
    finally:
        engine.dispose()
