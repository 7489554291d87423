"""A first sync killed while it rebuilds the indexes is finished by the next sync."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdesk.store import CacheDB
from agentdesk.store import apply as store_apply
from agentdesk.store.bulk import in_bulk_mode
from agentdesk.store.search import search
from agentdesk.sync import ApiClient, SyncEngine
from agentdesk.sync.cachestore import CacheSyncStore
from tests.unit.store.conftest import customer_row

PEOPLE = [("C00000001", "张三", "13800138000"), ("C00000002", "李四", "13900139000"),
          ("C00000003", "王五", "13700137000")]  # fmt: skip


class Feed:
    """Three snapshot pages of one customer each, then the (empty) change feed."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor", "")
        done = 0 if cursor == "" else int(cursor[1:])
        if done == len(PEOPLE):
            return httpx.Response(200, json={"changes": [], "cursor": cursor, "up_to_date": True})
        cid, name, msisdn = PEOPLE[done]
        change = {"seq": done + 1, "entity": "customer", "op": "put", "id": cid,
                  "row": customer_row(cid, name, msisdn)}  # fmt: skip
        page = {"changes": [change], "cursor": f"s{done + 1}", "up_to_date": False,
                "progress": {"done": done + 1, "total": len(PEOPLE)}}  # fmt: skip
        return httpx.Response(200, content=json.dumps(page))


class _Killed(BaseException):
    """Stands in for the process dying in the middle of the index rebuild."""


class _DiesAtTheNameIndex:
    """The sync connection, dying when the rebuild reaches the name index (the secondary
    indexes are already recreated in the same transaction by then)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if "'rebuild'" in sql:
            raise _Killed
        return self._conn.execute(sql, *args)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[CacheDB]:
    db = CacheDB.open(tmp_path / "cache.db")
    yield db
    db.close()


def _engine(db: CacheDB) -> SyncEngine:
    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(Feed()))
    return SyncEngine(CacheSyncStore(db, crash_hook=None), api, "dev-1")


def _indexes(db: CacheDB) -> set[str]:
    with db.reader() as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {r[0] for r in rows}


def test_killed_during_the_index_rebuild_the_next_sync_finishes_it_and_search_works(
    db: CacheDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    restore = store_apply.restore_after_bulk
    monkeypatch.setattr(
        store_apply, "restore_after_bulk", lambda conn: restore(_DiesAtTheNameIndex(conn))
    )
    with pytest.raises(_Killed):
        _engine(db).run_once()
    with db.sync_writer() as conn:
        assert in_bulk_mode(conn)  # the rebuild's transaction was rolled back as a whole
    assert "ix_customer_msisdn" not in _indexes(db)
    with db.reader() as conn:  # every snapshot page was committed before the rebuild began
        assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] == 3
    monkeypatch.setattr(store_apply, "restore_after_bulk", restore)

    report = _engine(db).run_once()  # the next start, online again

    assert report.ok
    assert report.pulled == 0  # nothing downloaded twice: it resumed after the last page
    with db.sync_writer() as conn:
        assert not in_bulk_mode(conn)
    assert {"ix_customer_msisdn", "ix_customer_id_number"} <= _indexes(db)
    with db.reader() as conn:
        assert [h.customer_id for h in search(conn, "王")] == ["C00000003"]
        assert [h.customer_id for h in search(conn, "lisi")] == ["C00000002"]
        assert [h.customer_id for h in search(conn, "1380013")] == ["C00000001"]
