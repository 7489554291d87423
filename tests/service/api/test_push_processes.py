"""Two service processes on one PostgreSQL database judge pushes as if they ran one after the other.

A push reads the customer, its claim and its contact history, judges the caps and writes. Nothing
locks the customer row: what keeps two processes from both judging before either commits is the
sequencer row lock, which every write group takes as its first statement and holds to its commit
(the ``ledger`` module's docstring, "Locks"). Here the lock is held while a push arrives at each
of two processes; when it is let go, the two groups must still run one after the other, so the
contact that commits second counts the first against the frequency cap.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine, func, select, text

from agentdesk.domain import Role
from agentdesk.protocol import PushRequest, PushResponse
from agentdesk_sync import ledger
from agentdesk_sync.app import create_app
from agentdesk_sync.auth import Principal
from agentdesk_sync.db import models as m
from agentdesk_sync.db.changes import LOCK_SEQUENCER
from agentdesk_sync.db.engine import make_engine
from agentdesk_sync.deps import AppState

from .conftest import GZ, seeded_store
from .pushing import batch, contact, day_time

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url: str, password_hashes: dict[str, str]) -> str:
    return seeded_store(pg_url, password_hashes)


def _agent(user: str) -> Principal:
    role = Role.CALL_CENTRE
    return Principal(user, user, role, role.channels, (GZ,))


def _push_in_a_process(state: AppState, user: str, item: dict[str, Any], out: list[Any]) -> None:
    """One push to one service process, on a thread and event loop of its own."""
    request = msgspec.convert(batch(item, device=f"dev-{user}"), PushRequest)
    try:
        out.append(asyncio.run(ledger.push(state, _agent(user), request)))
    except Exception as exc:  # the test asserts there is none
        out.append(exc)


def _wait_until_waiting(engine: Engine, sessions: int) -> None:
    """Return once ``sessions`` backends of the database wait for a lock."""
    sql = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    pause = threading.Event()
    for _ in range(6000):  # a bound, so a push that never waits fails the test instead of hanging
        with engine.connect() as conn:  # a fresh snapshot of pg_stat_activity each time
            if conn.execute(sql).scalar_one() >= sessions:
                return
        pause.wait(0.01)
    raise AssertionError(f"{sessions} sessions never waited for the sequencer lock")


def test_two_processes_pushing_to_one_customer_count_each_others_contacts(pg_store: str) -> None:
    states = [create_app(pg_store).state.agentdesk for _ in range(2)]  # two service processes
    engine = make_engine(pg_store)
    answers: list[list[Any]] = [[], []]
    items = [contact("C00000001", started=day_time(3)), contact("C00000001", started=day_time(2))]
    try:
        with engine.connect() as holder:  # stands for a group of a third process, mid-way
            holder.exec_driver_sql(LOCK_SEQUENCER)
            threads = [
                threading.Thread(target=_push_in_a_process, args=(st, user, item, out))
                for st, user, item, out in zip(states, ["cc1", "cc2"], items, answers, strict=True)
            ]
            for thread in threads:
                thread.start()
            _wait_until_waiting(engine, 2)  # both groups are open and queue on the lock
            holder.commit()
            for thread in threads:
                thread.join()
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(m.Contact)).scalar_one()
    finally:
        engine.dispose()
        for st in states:
            st.sync_engine.dispose()
            asyncio.run(st.engine.dispose())
    responses = [out[0] for out in answers]
    assert all(isinstance(r, PushResponse) for r in responses), responses
    results = sorted((r.results[0] for r in responses), key=lambda res: res.server_seq or 0)
    # the one that committed first was alone; the second saw it and is flagged, not rejected
    assert [res.status for res in results] == ["applied", "applied_with_conflict"]
    conflict = results[1].conflict
    assert conflict is not None
    assert (conflict.type, conflict.count_after) == ("frequency_cap", 2)
    assert stored == 2
