"""The change feed's cursor equals commit order on PostgreSQL (docs/sync.md), with real connections.

Writer A takes its sequence number and stays open; writer B then tries to take one and must wait
on the sequencer row lock until A commits, so B's number is larger *and* B commits later. A
reader pulling while A is open sees neither change and does not move past them; after both
commit it gets both, in order: nothing is skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from agentdesk_sync.app import create_app
from agentdesk_sync.db.changes import ChangeRow, append_changes
from agentdesk_sync.db.engine import make_engine, migrate

from .conftest import GZ, _seed


@pytest.fixture
def pg_store(pg_url: str, password_hashes: dict[str, str]) -> Iterator[Engine]:
    migrate(pg_url)
    engine = make_engine(pg_url)
    _seed(engine, password_hashes)
    yield engine
    engine.dispose()


def _append(conn: Connection, entity_id: str) -> int:
    change = ChangeRow("contact", entity_id, "put", {"contact_id": entity_id}, GZ, "C00000001")
    (seq,) = append_changes(Session(bind=conn), [change])
    return seq


def _waiting_on_a_lock(engine: Engine) -> bool:
    sql = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    with engine.connect() as conn:
        return bool(conn.execute(text(sql)).scalar_one())


def _pull_all(client: TestClient, cursor: str) -> tuple[list[int], str]:
    seqs: list[int] = []
    while True:
        page = client.get(
            "/v1/sync/pull", params={"cursor": cursor}, headers={"Authorization": "Bearer tok-sup"}
        ).json()
        seqs += [c["seq"] for c in page["changes"]]
        cursor = page["cursor"]
        if page["up_to_date"]:
            return seqs, cursor


def test_a_reader_never_skips_a_change_that_commits_later(pg_store: Engine) -> None:
    url = pg_store.url.render_as_string(hide_password=False)
    with TestClient(create_app(url)) as client:
        _seqs, cursor = _pull_all(client, "")
        first = pg_store.connect()
        second = pg_store.connect()
        try:
            first.begin()
            seq_a = _append(first, "A")
            got: dict[str, int] = {}

            def writer_b() -> None:
                with second.begin():
                    got["b"] = _append(second, "B")

            thread = threading.Thread(target=writer_b)
            thread.start()
            while not _waiting_on_a_lock(pg_store):
                assert thread.is_alive()
            early, cursor = _pull_all(client, cursor)
            assert early == []
            assert "b" not in got
            first.commit()
            thread.join(timeout=30)
        finally:
            first.close()
            second.close()
        assert got["b"] == seq_a + 1
        late, _cursor = _pull_all(client, cursor)
    assert late == [seq_a, seq_a + 1]
