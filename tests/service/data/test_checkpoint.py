"""The service's SQLite store: commits leave the WAL alone, a background thread folds it back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

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
