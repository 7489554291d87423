"""The central store's engine: URL resolution, migrations, and one-sentence connection errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from agentdesk_sync.db.engine import (
    db_kind,
    make_async_engine,
    make_engine,
    migrate,
    resolve_db_url,
)
from agentdesk_sync.db.errors import DatabaseUnavailable, InvalidDatabaseUrl
from agentdesk_sync.db.migrate import current_revision, head_revision
from agentdesk_sync.db.models import Base


def test_default_url_is_sqlite_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, agentdesk_dirs: dict[str, Path]
) -> None:
    monkeypatch.delenv("AGENTDESK_SYNC_DB", raising=False)
    url = resolve_db_url(None)
    assert url == f"sqlite:///{agentdesk_dirs['AGENTDESK_DATA_DIR'] / 'central.db'}"
    assert db_kind(url) == "sqlite"


def test_env_var_then_explicit_url_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENTDESK_SYNC_DB", f"sqlite:///{tmp_path}/env.db")
    assert resolve_db_url(None).endswith("env.db")
    assert resolve_db_url(f"sqlite:///{tmp_path}/arg.db").endswith("arg.db")


def test_postgres_urls_use_psycopg() -> None:
    url = resolve_db_url("postgres://u:secret@db.example:5433/central")
    assert url == "postgresql+psycopg://u:secret@db.example:5433/central"
    assert db_kind(url) == "postgresql"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url", "oracle+cx://x"])
def test_unsupported_url_is_one_sentence(url: str) -> None:
    with pytest.raises(InvalidDatabaseUrl, match=r"^The database URL .*\.$"):
        resolve_db_url(url)


def test_sqlite_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DatabaseUnavailable, match="Cannot create the database folder"):
        migrate(f"sqlite:///{blocker}/sub/central.db")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgres_is_one_sentence() -> None:
    url = f"postgresql+psycopg://u:pw@127.0.0.1:{_closed_port()}/central"
    with pytest.raises(DatabaseUnavailable) as info:
        migrate(url)
    message = str(info.value)
    assert "nothing is listening" in message
    assert "pw" not in message
    assert "\n" not in message


def test_missing_postgres_database_is_named(pg_url: str) -> None:
    url = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(DatabaseUnavailable, match="the database does not exist"):
        migrate(url)


def test_migrate_creates_schema_and_bootstrap_rows(db_url: str) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        meta = dict(conn.execute(text("SELECT key, value FROM meta")).all())
        seq = conn.execute(text("SELECT value FROM sequencer WHERE name = 'change'")).scalar()
    engine.dispose()
    assert len(meta["epoch"]) == 32
    assert meta["retention_floor"] == "0"
    assert seq == 0
    assert current_revision(db_url) == head_revision()


def test_migrate_twice_keeps_the_epoch(db_url: str) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    query = text("SELECT value FROM meta WHERE key = 'epoch'")
    with engine.connect() as conn:
        first = conn.execute(query).scalar()
    migrate(db_url)
    with engine.connect() as conn:
        assert conn.execute(query).scalar() == first
    engine.dispose()


def test_migrations_match_the_models(db_url: str) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/c.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    engine.dispose()


async def _async_select_one(url: str) -> int:
    engine = make_async_engine(url)
    async with engine.connect() as conn:
        value = (await conn.execute(text("SELECT count(*) FROM sequencer"))).scalar_one()
    await engine.dispose()
    return int(value)


def test_async_engine_reads_the_migrated_store(db_url: str) -> None:
    import asyncio

    migrate(db_url)
    assert asyncio.run(_async_select_one(db_url)) == 1


@pytest.mark.parametrize(("usage_seqs", "floor"), [((5, 9), "9"), ((), "0")])
def test_desktops_behind_a_per_month_usage_change_start_over(
    db_url: str, usage_seqs: tuple[int, ...], floor: str
) -> None:
    """Migration 0004: the months now travel as one ``usage_months`` change; a cursor behind a
    per-month ``usage`` change a merge logged before is too old (reset_required), others stay."""
    migrate(db_url)
    engine = make_engine(db_url)
    log = text(
        "INSERT INTO change_log (server_seq, entity, entity_id, op, region_code, customer_id, "
        "row, created_at) VALUES (:s, :e, :i, 'remove', NULL, NULL, NULL, CURRENT_TIMESTAMP)"
    )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0003')"))
        for seq in usage_seqs:
            conn.execute(log, {"s": seq, "e": "usage", "i": f"C00000001:2026-0{seq}"})
        conn.execute(log, {"s": 12, "e": "contact", "i": "k1"})
    migrate(db_url)
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM meta WHERE key = 'retention_floor'")).scalar()
    engine.dispose()
    assert value == floor
    assert current_revision(db_url) == head_revision()
