"""Opening the cache: pragmas, damaged files moved aside, environmental errors typed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agentdesk.store import (
    CacheDB,
    DatabaseLockedError,
    DiskFullError,
    ReadOnlyCacheError,
    StoreBugError,
)
from agentdesk.store import db as store_db
from agentdesk.store.db import CHECKPOINT_EVERY
from agentdesk.store.errors import CacheIOError, map_sqlite_error
from agentdesk.store.outbox import record_outcome
from agentdesk.store.outbox_sync import counts, take_batch
from tests.unit.store.conftest import make_contact


def count(db: CacheDB, table: str) -> int:
    with db.reader() as r:
        return int(r.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_writer_is_wal_and_full_readers_are_read_only(db: CacheDB) -> None:
    with db.writer() as w:
        assert w.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert w.execute("PRAGMA synchronous").fetchone() == (2,)
        assert w.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    with db.sync_writer() as s:
        assert s.execute("PRAGMA synchronous").fetchone() == (1,)
    with db.reader() as r, pytest.raises(sqlite3.OperationalError, match="readonly"):
        r.execute("DELETE FROM outbox")


def test_saves_never_checkpoint_the_wal_a_background_thread_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.db"
    monkeypatch.setattr(store_db, "CLOSE_WAIT_S", 60.0)  # the count is read after close
    db = CacheDB.open(path)
    with db.writer() as w:  # a save never copies the WAL into the file itself
        assert w.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    for i in range(2 * CHECKPOINT_EVERY - 1):
        with db.writer() as w:
            record_outcome(w, make_contact(minutes=i))
    db.close()  # runs the checkpoint that is due (the test never pauses 0.2 s between saves)
    assert db._checkpointer.done >= 1
    with CacheDB.open(path) as again:
        assert count(again, "contact") == 2 * CHECKPOINT_EVERY - 1
        assert counts_of(again) == (2 * CHECKPOINT_EVERY - 1, 0, 0)


def test_saves_rewrite_the_preallocated_wal_instead_of_growing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "PREALLOCATE_FROM", 0)  # as for a synced cache of 64 MB+
    monkeypatch.setattr(store_db, "WAL_PREALLOCATE", 2 << 20)
    monkeypatch.setattr(store_db, "PREALLOCATE_AFTER_S", 0.0)
    path = tmp_path / "cache.db"
    db = CacheDB.open(path)
    assert db._checkpointer.preallocated.wait(30)  # the WAL is ready before the first save
    wal = Path(f"{path}-wal")
    size = wal.stat().st_size
    assert size >= 2 << 20
    for i in range(20):  # ~60 KB each: they fit in what is there
        with db.writer() as w:
            record_outcome(w, make_contact(minutes=i))
    assert wal.stat().st_size == size
    db.close()
    with CacheDB.open(path) as again:  # zeros after the last frame are no data
        assert count(again, "contact") == 20


def _pwrite_fails(fd: int, data: bytes, offset: int) -> int:
    raise OSError(95, "Operation not supported")


@pytest.mark.parametrize("platform", ["no pwrite", "no fdatasync", "pwrite fails"])
def test_saves_are_checkpointed_when_the_wal_cannot_be_preallocated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    monkeypatch.setattr(store_db, "PREALLOCATE_FROM", 0)  # as for a synced cache of 64 MB+
    monkeypatch.setattr(store_db, "WAL_PREALLOCATE", 1 << 20)
    monkeypatch.setattr(store_db, "PREALLOCATE_AFTER_S", 0.0)
    monkeypatch.setattr(store_db, "CLOSE_WAIT_S", 60.0)  # the count is read after close
    if platform == "no pwrite":  # Windows
        monkeypatch.delattr(store_db.os, "pwrite")
    elif platform == "no fdatasync":  # macOS
        monkeypatch.delattr(store_db.os, "fdatasync")
    else:
        monkeypatch.setattr(store_db.os, "pwrite", _pwrite_fails)
    path = tmp_path / "cache.db"
    db = CacheDB.open(path)
    assert db._checkpointer.preallocated.wait(30)
    if platform == "no fdatasync":  # it syncs with fsync instead
        assert Path(f"{path}-wal").stat().st_size >= 1 << 20
    for i in range(2 * CHECKPOINT_EVERY):
        with db.writer() as w:
            record_outcome(w, make_contact(minutes=i))
    db.close()
    assert db._checkpointer.done >= 1  # the thread lived on: the WAL does not grow forever
    with CacheDB.open(path) as again:
        assert count(again, "contact") == 2 * CHECKPOINT_EVERY


def counts_of(db: CacheDB) -> tuple[int, int, int]:
    with db.reader() as r:
        found = counts(r)
    return found.waiting, found.conflicts, found.rejected


def test_not_a_database_is_moved_aside_and_a_fresh_cache_starts(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    garbage = b"this is not sqlite at all" * 100
    path.write_bytes(garbage)
    with CacheDB.open(path) as db:
        report = db.recovery
        assert report is not None
        assert report.moved_to.read_bytes() == garbage
        assert report.moved_to.name.startswith("cache.db.corrupt-")
        assert report.pending_outbox is None
        assert "could not be read" in report.sentence
        with db.writer() as w:
            record_outcome(w, make_contact())
        assert count(db, "outbox") == 1


def _damage_index_page(path: Path) -> None:
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'ix_customer_msisdn'"
    ).fetchone()[0]
    conn.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * 64)


def test_damaged_file_keeps_its_unsynced_items(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with CacheDB.open(path) as db:
        with db.writer() as w:
            entries = [record_outcome(w, make_contact(minutes=i)) for i in range(3)]
        with db.sync_writer() as s:
            from agentdesk.store.apply import apply_changes
            from tests.unit.store.conftest import customer_change

            apply_changes(s, [customer_change(1, "C00000001", "张三", "13800138000")], "c", True)
    _damage_index_page(path)
    with CacheDB.open(path, integrity="quick") as db:
        report = db.recovery
        assert report is not None
        assert report.pending_outbox == 3
        assert "3 unsynced item(s) were recovered" in report.sentence
        assert report.moved_to.exists()
        with db.writer() as w:
            assert [i.id for i in take_batch(w)] == [e.id for e in entries]
            again = record_outcome(w, make_contact(minutes=9))
        assert again.client_seq == 4
        assert count(db, "customer") == 0


def test_after_an_unclean_shutdown_the_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with CacheDB.open(path) as db, db.sync_writer() as s:
        from agentdesk.store.apply import apply_changes
        from tests.unit.store.conftest import customer_change

        apply_changes(s, [customer_change(1, "C00000001", "张三", "13800138000")], "c", True)
    _damage_index_page(path)
    with CacheDB.open(path) as db:
        assert db.recovery is None  # closed cleanly: no full read at start-up
    raw = sqlite3.connect(path)
    raw.execute(
        "UPDATE app_meta SET value = '0' WHERE key = 'clean_shutdown'"
    )  # as a crash leaves it
    raw.commit()
    raw.close()
    with CacheDB.open(path) as db:
        assert db.recovery is not None


def test_full_disk_is_a_typed_error_and_nothing_half_written(db: CacheDB) -> None:
    saved = 0
    with db.writer() as w:
        pages = w.execute("PRAGMA page_count").fetchone()[0]
        w.execute(f"PRAGMA max_page_count = {pages + 2}")
        error: DiskFullError | None = None
        for i in range(500):
            try:
                record_outcome(w, make_contact(minutes=i, note="n" * 3000))
            except DiskFullError as exc:
                error = exc
                break
            saved += 1
    assert error is not None
    assert "NOT saved" in error.sentence
    assert count(db, "outbox") == saved
    assert count(db, "contact") == saved


def test_read_only_cache_is_a_typed_error(db: CacheDB) -> None:
    with db.writer() as w:
        w.execute("PRAGMA query_only = 1")
        with pytest.raises(ReadOnlyCacheError):
            record_outcome(w, make_contact())
        w.execute("PRAGMA query_only = 0")
    assert count(db, "outbox") == 0


def test_locked_cache_is_a_typed_error(db: CacheDB) -> None:
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with db.writer() as w:
            w.execute("PRAGMA busy_timeout = 10")
            with pytest.raises(DatabaseLockedError):
                record_outcome(w, make_contact())
    finally:
        other.execute("ROLLBACK")
        other.close()
    with db.writer() as w:
        record_outcome(w, make_contact())
        assert counts(w).waiting == 1


def test_error_mapping_of_os_and_sql_errors() -> None:
    import errno

    assert isinstance(map_sqlite_error(OSError(errno.ENOSPC, "full")), DiskFullError)
    assert isinstance(map_sqlite_error(OSError(errno.EROFS, "ro")), ReadOnlyCacheError)
    assert isinstance(map_sqlite_error(OSError(errno.EIO, "io")), CacheIOError)
    assert isinstance(map_sqlite_error(sqlite3.IntegrityError("UNIQUE failed")), StoreBugError)


def test_closed_cache_refuses_work(tmp_path: Path) -> None:
    from agentdesk.store import StoreError

    db = CacheDB.open(tmp_path / "c.db")
    db.close()
    db.close()
    with pytest.raises(StoreError), db.writer():
        pass


def test_readers_are_not_blocked_by_an_open_write(db: CacheDB) -> None:
    from agentdesk.store import transaction

    with db.writer() as w:
        record_outcome(w, make_contact())
        with transaction(w):
            w.execute("DELETE FROM outbox")
            # a UI reader during the writer's transaction: not blocked, sees the committed state
            assert count(db, "outbox") == 1
    assert count(db, "outbox") == 0


def test_user_cache_lives_in_the_data_folder(agentdesk_dirs: dict[str, Path]) -> None:
    from agentdesk.store import open_user_cache

    with open_user_cache("li.na") as db:
        assert db.path.name == "cache.db"
        assert agentdesk_dirs["AGENTDESK_DATA_DIR"] in db.path.parents
