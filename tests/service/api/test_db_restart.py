"""PostgreSQL crashes (``pg_ctl stop -m immediate``) in the middle of pushes: items answer
``retry`` or the request 503 ``unavailable``; after the restart every item applies exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine, migrate
from tests.pg import PgCluster

from .conftest import LiveServer, _seed, start_live_server
from .pushing import batch, contact, day_time

_AUTH = {"Authorization": "Bearer tok-cc1"}


@pytest.fixture
def pg_live(pg_url: str, password_hashes: dict[str, str]) -> Iterator[tuple[LiveServer, str]]:
    migrate(pg_url)
    engine = make_engine(pg_url)
    _seed(engine, password_hashes)
    engine.dispose()
    server = start_live_server(pg_url)
    yield server, pg_url
    server.stop()


def _items(n: int, offset: int) -> list[dict[str, Any]]:
    return [
        contact(
            "C00000001" if i % 2 else "C00000002",
            seq=offset + i,
            channel="inbound_call",
            started=day_time(1),
        )
        for i in range(n)
    ]


def _push_until_done(client: httpx.Client, items: list[dict[str, Any]]) -> dict[str, str]:
    """Push until no item asks for a retry; the final status of every item."""
    final: dict[str, str] = {}
    for _attempt in range(60):
        resp = client.post("/v1/sync/push", json=batch(*items))
        if resp.status_code == 503:
            assert resp.json()["error"]["code"] == "unavailable"
            assert resp.headers["Retry-After"]
            continue
        assert resp.status_code == 200, resp.text
        results = resp.json()["results"]
        final.update({r["id"]: r["status"] for r in results})
        if all(r["status"] != "retry" for r in results):
            return final
    raise AssertionError("the push never completed after the restart")


def test_pushes_survive_a_database_crash(
    pg_live: tuple[LiveServer, str], pg_cluster: PgCluster
) -> None:
    live, url = pg_live
    before, during = _items(40, 0), _items(300, 1000)
    seen: list[httpx.Response] = []
    with httpx.Client(base_url=live.url, timeout=60, headers=_AUTH) as client:
        assert {
            r["status"] for r in client.post("/v1/sync/push", json=batch(*before)).json()["results"]
        } == {"applied"}
        pusher = threading.Thread(
            target=lambda: seen.append(client.post("/v1/sync/push", json=batch(*during)))
        )
        pusher.start()
        pg_cluster.stop(mode="immediate")
        pusher.join(timeout=120)
        down = client.post("/v1/sync/push", json=batch(*during))
        assert down.status_code == 503 or {r["status"] for r in down.json()["results"]} == {"retry"}
        (in_flight,) = seen
        if in_flight.status_code == 200:
            statuses = [r["status"] for r in in_flight.json()["results"]]
            assert set(statuses) <= {"applied", "retry"}
            first_retry = statuses.index("retry") if "retry" in statuses else len(statuses)
            assert set(statuses[first_retry:]) <= {"retry"}  # the batch stops at the first retry
        pg_cluster.start()
        final = _push_until_done(client, before + during)
    assert set(final.values()) <= {"applied", "duplicate"}
    assert {final[i["id"]] for i in before} == {"duplicate"}
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(m.Contact)).scalar_one()
            distinct = conn.execute(
                select(func.count(func.distinct(m.Contact.contact_id)))
            ).scalar_one()
            logged = conn.execute(
                select(func.count()).select_from(m.ChangeLog).where(m.ChangeLog.entity == "contact")
            ).scalar_one()
    finally:
        engine.dispose()
    assert total == distinct == logged == len(before) + len(during)


def _terminate_backends(pg_cluster: PgCluster, url: str) -> int:
    """End every server process of the service's database (as a failover or restart does)."""
    dbname = make_url(url).database
    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return len(rows)


def test_push_and_claim_right_after_the_connections_died(
    pg_live: tuple[LiveServer, str], pg_cluster: PgCluster
) -> None:
    """A busy service whose pooled connections were all closed by the server (a restart or
    failover within the idle-ping interval) answers its next push and claim at once: the
    write group that meets a dead connection before sending any work runs on a new one."""
    live, url = pg_live
    first, second = _items(6, 0), _items(6, 100)
    with httpx.Client(base_url=live.url, timeout=60, headers=_AUTH) as client:
        pushed = client.post("/v1/sync/push", json=batch(*first))
        assert {r["status"] for r in pushed.json()["results"]} == {"applied"}
        assert _terminate_backends(pg_cluster, url) > 0
        again = client.post("/v1/sync/push", json=batch(*second))
        assert again.status_code == 200, again.text
        assert [r["status"] for r in again.json()["results"]] == ["applied"] * len(second)
        assert _terminate_backends(pg_cluster, url) > 0
        claim = client.post(
            "/v1/claims",
            json={
                "customer_id": "C00000001",
                "channel": "inbound_call",
                "purpose": "contact",
                "ttl_s": 900,
            },
        )
        assert claim.status_code == 201, claim.text
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            contacts = conn.execute(select(func.count()).select_from(m.Contact)).scalar_one()
            logged = conn.execute(
                select(func.count()).select_from(m.ChangeLog).where(m.ChangeLog.entity == "contact")
            ).scalar_one()
            claims = conn.execute(select(func.count()).select_from(m.Claim)).scalar_one()
    finally:
        engine.dispose()
    assert contacts == logged == len(first) + len(second)  # nothing doubled
    assert claims == 1
