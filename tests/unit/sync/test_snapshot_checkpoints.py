"""A first sync's WAL is folded into the cache file by a thread of its own, not by the sync
thread's commits, and the cache file ends up holding everything the snapshot brought."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentdesk.store import CacheDB
from agentdesk.store.search import search
from agentdesk.sync import ApiClient, SyncEngine, cachestore
from agentdesk.sync.cachestore import CacheSyncStore
from tests.unit.sync.test_first_sync_rebuild import Feed


@pytest.fixture
def db(tmp_path: Path) -> Iterator[CacheDB]:
    db = CacheDB.open(tmp_path / "cache.db")
    yield db
    db.close()


@pytest.fixture(autouse=True)
def _quick_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cachestore, "SNAPSHOT_GROUP_PAGES", 1)  # a commit after every page
    monkeypatch.setattr(cachestore, "_CHECKPOINT_IDLE_S", 0.01)  # the thread ends soon after


def _sync(db: CacheDB) -> tuple[CacheSyncStore, bool]:
    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(Feed()))
    store = CacheSyncStore(db, crash_hook=None)
    seen_autocheckpoint: list[int] = []
    apply_grouped = store._apply_grouped

    def watch(conn: sqlite3.Connection, *args: object) -> None:
        seen_autocheckpoint.append(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        apply_grouped(conn, *args)  # type: ignore[arg-type]

    store._apply_grouped = watch  # type: ignore[method-assign]
    report = SyncEngine(store, api, "dev-1").run_once()
    assert report.ok
    store._checkpoints.join()  # its last checkpoint done, the thread ended by itself
    return store, set(seen_autocheckpoint) == {0}


def _customers_in_the_file_alone(path: Path) -> int:
    """Customers in the cache file, its WAL ignored (what a checkpoint has copied there)."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM customer").fetchone()[0])
    finally:
        conn.close()


def test_a_first_sync_is_checkpointed_off_the_sync_thread_into_the_cache_file(
    db: CacheDB,
) -> None:
    store, commits_never_checkpointed = _sync(db)

    assert commits_never_checkpointed  # the sync writer's own commits left the WAL alone
    assert store._checkpoints.done >= 1  # on the thread (pokes close together share one)
    assert _customers_in_the_file_alone(db.path) == 3
    with db.sync_writer() as conn:  # after the snapshot the writer checkpoints as before
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    with db.reader() as conn:
        assert [h.customer_id for h in search(conn, "lisi")] == ["C00000002"]


def test_a_wal_past_its_cap_waits_for_the_checkpoint_and_starts_over(
    db: CacheDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cachestore, "_WAL_CAP_FRAMES", 0)  # every group waits for it
    _store, _ = _sync(db)

    assert _customers_in_the_file_alone(db.path) == 3
    with db.reader() as conn:
        assert [h.customer_id for h in search(conn, "1380013")] == ["C00000001"]


def test_a_checkpoint_thread_that_cannot_work_never_holds_the_sync_up(tmp_path: Path) -> None:
    checkpoints = cachestore._SnapshotCheckpoints(tmp_path / "gone" / "cache.db")
    checkpoints.poke()
    checkpoints.catch_up()  # returns: the thread ended without a checkpoint
    checkpoints.join()
    checkpoints.poke()  # a later commit starts a thread again, which ends the same way
    checkpoints.catch_up()
    assert checkpoints.done == 0


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sync-checkpoint" and t.is_alive()]


def test_closing_the_cache_right_after_a_first_sync_ends_the_checkpoint_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the user quits at once: the thread would otherwise idle on with the file open
    monkeypatch.setattr(cachestore, "_CHECKPOINT_IDLE_S", 3600.0)
    db = CacheDB.open(tmp_path / "cache.db")
    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(Feed()))
    store = CacheSyncStore(db, crash_hook=None)
    assert SyncEngine(store, api, "dev-1").run_once().ok
    assert _checkpoint_threads()

    db.close()

    assert not _checkpoint_threads()
    assert not Path(f"{db.path}-wal").exists()  # the cache's last connection folded the WAL
    assert _customers_in_the_file_alone(db.path) == 3
    store._checkpoints.poke()  # a late commit's poke starts no thread on a closed cache
    assert not _checkpoint_threads()
