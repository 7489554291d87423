"""The service's SQLite store: commits leave the WAL alone, a background thread folds it back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, text

from agentdesk_sync.app import create_app
from agentdesk_sync.db.checkpoint import WalCheckpointer
from agentdesk_sync.db.engine import make_engine


def test_commits_of_the_service_leave_the_wal_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "central.db"
    engine = make_engine(f"sqlite:///{path}", sqlite_checkpoints=False)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE note (body TEXT)"))
        with engine.connect() as conn:  # held open: the WAL is not folded back at the last close
            for _ in range(50):  # well past SQLite's own 1,000-page checkpoint
                with conn.begin():
                    conn.execute(text("INSERT INTO note VALUES (:b)"), {"b": "x" * 100_000})
            before = path.stat().st_size
            checkpointer = WalCheckpointer(path, every_s=3600)
            checkpointer.start()
            checkpointer.stop()  # runs the checkpoint that is due before it ends
            after = path.stat().st_size
            assert checkpointer.done == 1
    finally:
        engine.dispose()
    assert before < 1_000_000  # the commits did not copy the rows into the database file
    assert after > 5_000_000  # the checkpointer did
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM note").fetchone() == (50,)


def _fill(engine: Engine, rows: int) -> int:
    """Commit ``rows`` rows of 100 kB on one held connection; the WAL's size after them."""
    path = Path(str(engine.url.database))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS note (body TEXT)"))
    with engine.connect() as conn:  # held open: the WAL is not folded back at the last close
        for _ in range(rows):
            with conn.begin():
                conn.execute(text("INSERT INTO note VALUES (:b)"), {"b": "x" * 100_000})
        return Path(f"{path}-wal").stat().st_size


def test_an_app_used_without_its_lifespan_keeps_the_wal_bounded(tmp_path: Path) -> None:
    """Embedded use (no lifespan, so no checkpoint thread): the commits fold the WAL back
    themselves, as SQLite does by default, instead of letting it grow with every write."""
    app = create_app(f"sqlite:///{tmp_path / 'central.db'}")
    state = app.state.agentdesk
    try:
        wal = _fill(state.sync_engine, 150)  # 15 MB written, ~4 MB is SQLite's own bound
    finally:
        state.sync_engine.dispose()
    assert wal < 8_000_000


def test_the_service_commits_leave_the_wal_to_a_running_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "central.db"
    checkpointer = WalCheckpointer(path, every_s=3600)
    engine = make_engine(f"sqlite:///{path}", sqlite_checkpoints=lambda: not checkpointer.active)
    try:
        _fill(engine, 1)
        checkpointer.start()
        assert checkpointer.connected.wait(timeout=60)
        wal = _fill(engine, 100)
    finally:
        checkpointer.stop()
        engine.dispose()
    assert wal > 10_000_000  # nothing folded back at commit: that is the checkpointer's job
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM note").fetchone() == (101,)


def test_a_checkpointer_that_could_not_connect_tries_again(tmp_path: Path) -> None:
    """The store's folder is missing when the service starts (a mount not there yet): the
    checkpoint thread keeps trying, and folds the WAL back once the file can be opened."""
    path = tmp_path / "later" / "central.db"
    checkpointer = WalCheckpointer(path, every_s=0.01)
    checkpointer.start()
    try:
        assert not checkpointer.active
        path.parent.mkdir()
        engine = make_engine(f"sqlite:///{path}", sqlite_checkpoints=False)
        try:
            _fill(engine, 50)
            assert checkpointer.connected.wait(timeout=60)
            checkpointer.stop()  # its last checkpoint; the engine's pooled connection stays open
            size = path.stat().st_size
        finally:
            engine.dispose()
    finally:
        checkpointer.stop()
    assert checkpointer.done >= 1
    assert size > 4_000_000  # the rows reached the database file
