"""Write requests that wait together share one transaction (group commit, docs/sync.md).

The requests of these tests are handed to the service at the same moment (one event loop,
``asyncio.gather``), so they land in ONE write group; each must still get the answer it would
get alone and in arrival order: one id pushed by several devices is applied once, contacts of
different requests count against each other's caps, one customer gets one claim holder, the
change feed numbers follow arrival order, and one failing request does not sink the others.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Iterator
from typing import Any

import msgspec
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, func, select

from agentdesk.domain import Role
from agentdesk.protocol import ClaimRequest, PushRequest, PushResponse
from agentdesk_sync import claims, ledger, writer
from agentdesk_sync.app import create_app
from agentdesk_sync.auth import Principal
from agentdesk_sync.db import models as m
from agentdesk_sync.deps import AppState
from agentdesk_sync.errors import ApiError

from .conftest import GZ, add_user
from .pushing import PERMANENT, batch, contact, cure, day_time, poison


@pytest.fixture
def state(store: str) -> Iterator[AppState]:
    app = create_app(store)
    app_state: AppState = app.state.agentdesk
    yield app_state
    app_state.sync_engine.dispose()
    asyncio.run(app_state.engine.dispose())


def _agent(user: str) -> Principal:
    role = Role.CALL_CENTRE
    return Principal(user, user, role, role.channels, (GZ,))


def _request(*items: dict[str, Any], device: str = "dev-1") -> PushRequest:
    return msgspec.convert(batch(*items, device=device), PushRequest)


def _together(*calls: Awaitable[Any]) -> list[Any]:
    """Run the calls at the same moment, in this order; errors are returned, not raised."""

    async def main() -> list[Any]:
        return await asyncio.gather(*calls, return_exceptions=True)

    return asyncio.run(main())


def _statuses(answer: PushResponse) -> list[str]:
    return [r.status for r in answer.results]


def test_one_id_pushed_by_several_devices_at_once_is_applied_once(
    state: AppState, sync_engine: Engine
) -> None:
    item = contact("C00000001", started=day_time(1))
    answers = _together(
        *(
            ledger.push(state, _agent(user), _request(item, device=f"dev-{k}"))
            for k, user in enumerate(["cc1", "cc2", "cc1", "cc2", "cc1"])
        )
    )
    assert state.writer.largest == 5  # they were one group
    assert [_statuses(a) for a in answers] == [["applied"]] + [["duplicate"]] * 4
    assert len({a.results[0].server_seq for a in answers}) == 1
    with sync_engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(m.Contact)).scalar_one()
    assert stored == 1


@pytest.mark.parametrize("max_merged", [writer.MAX_MERGED, 1])
def test_contacts_of_different_requests_in_a_group_count_against_each_others_caps(
    state: AppState, max_merged: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "MAX_MERGED", max_merged)  # 1: each request a pass of its own
    pushes = [
        ledger.push(state, _agent("cc1"), _request(contact("C00000001", started=day_time(d))))
        for d in (5, 3, 1)
    ]
    answers = _together(*pushes)
    assert state.writer.largest == 3
    flagged = "applied_with_conflict"
    assert [_statuses(a) for a in answers] == [["applied"], [flagged], [flagged]]
    conflicts = [a.results[0].conflict for a in answers[1:]]
    assert [(c.type, c.count_after) for c in conflicts if c] == [
        ("frequency_cap", 2),
        ("frequency_cap", 3),
    ]
    seqs = [a.results[0].server_seq for a in answers]
    assert seqs == sorted(seqs)
    assert [a.write_checkpoint for a in answers] == seqs


def test_claims_of_one_customer_in_one_group_have_one_holder(
    state: AppState, sync_engine: Engine, password_hashes: dict[str, str]
) -> None:
    users = [f"grp{i}" for i in range(6)]
    for user in users:
        add_user(sync_engine, user, "call_centre", [GZ], password_hashes["cc1"])
    ask = ClaimRequest(customer_id="C00000002", channel="inbound_call", ttl_s=600)
    answers = _together(*(claims.acquire(state, _agent(user), ask) for user in users))
    assert state.writer.largest == len(users)
    granted = [a for a in answers if isinstance(a, claims.Granted)]
    refused = [a for a in answers if isinstance(a, ApiError)]
    assert len(granted) == 1
    assert granted[0].created
    assert isinstance(answers[0], claims.Granted)  # the first to arrive wins
    assert len(refused) == len(users) - 1
    assert {e.code for e in refused} == {"claimed"}
    assert {e.details["holder"]["user_id"] for e in refused} == {users[0]}


def test_a_failing_request_does_not_sink_the_rest_of_its_group(
    state: AppState, sync_engine: Engine
) -> None:
    poisoned = contact("C00000001", started=day_time(2))
    fine = contact("C00000002", started=day_time(2))
    poison(sync_engine, poisoned["id"])
    try:
        ask = ClaimRequest(customer_id="C00000001", channel="inbound_call", ttl_s=600)
        unknown = ClaimRequest(customer_id="C09999999", channel="inbound_call", ttl_s=600)
        answers = _together(
            ledger.push(state, _agent("cc1"), _request(poisoned)),
            claims.acquire(state, _agent("cc2"), unknown),
            claims.acquire(state, _agent("cc2"), ask),
            ledger.push(state, _agent("cc1"), _request(fine, device="dev-2")),
        )
    finally:
        cure(sync_engine)
    assert state.writer.largest == 4
    assert _statuses(answers[0]) == ["retry"]
    assert isinstance(answers[1], ApiError)
    assert answers[1].code == "not_found"
    assert isinstance(answers[2], claims.Granted)
    assert _statuses(answers[3]) == ["applied"]
    with sync_engine.connect() as conn:
        kept = conn.execute(select(m.Contact.contact_id)).scalars().all()
        holder = conn.execute(
            select(m.Claim.holder_id).where(m.Claim.customer_id == "C00000001")
        ).scalar_one()
    assert kept == [fine["id"]]
    assert holder == "cc2"


def test_the_change_feed_of_a_group_follows_arrival_order(state: AppState, store: str) -> None:
    with TestClient(create_app(store)) as client:
        sup = {"Authorization": "Bearer tok-sup"}
        cursor = client.get("/v1/sync/pull", headers=sup).json()["cursor"]
        first = contact("C00000001", started=day_time(4))
        last = contact("C00000002", started=day_time(4))
        ask = ClaimRequest(customer_id="C00000001", channel="inbound_call", ttl_s=600)
        answers = _together(
            ledger.push(state, _agent("cc1"), _request(first)),
            claims.acquire(state, _agent("cc2"), ask),
            ledger.push(state, _agent("cc1"), _request(last, device="dev-2")),
        )
        assert state.writer.largest == 3
        assert isinstance(answers[1], claims.Granted)
        page = client.get("/v1/sync/pull", params={"cursor": cursor}, headers=sup).json()
    feed = [(c["entity"], c["id"]) for c in page["changes"]]
    assert feed == [
        ("contact", first["id"]),
        ("claim", "C00000001"),
        ("contact", last["id"]),
    ]
    seqs = [c["seq"] for c in page["changes"]]
    assert seqs == sorted(seqs)
    assert answers[0].results[0].server_seq == seqs[0]
    assert answers[2].results[0].server_seq == seqs[2]


def test_claims_of_several_customers_in_one_group_are_each_judged_as_alone(
    state: AppState,
) -> None:
    earlier = [contact("C00000001", started=day_time(3))]  # one of the 7-day cap's two
    assert _statuses(_together(ledger.push(state, _agent("cc1"), _request(*earlier)))[0])[0] == (
        "applied"
    )
    store = Principal("st1", "st1", Role.STORE, Role.STORE.channels, ("310100",))

    def ask(customer: str) -> ClaimRequest:
        return ClaimRequest(customer_id=customer, channel="inbound_call", ttl_s=600)

    answers = _together(
        claims.acquire(state, _agent("cc1"), ask("C00000001")),
        claims.acquire(state, store, ask("C00000002")),
        claims.acquire(state, store, ask("C00000003")),
        claims.acquire(state, _agent("cc2"), ask("C00000001")),
        claims.acquire(state, _agent("cc1"), ask("C09999999")),
    )
    assert state.writer.largest == 5
    first, outside, own, taken, unknown = answers
    assert isinstance(first, claims.Granted)
    assert first.response.budget is not None
    assert first.response.budget.used == 1
    assert isinstance(outside, ApiError)
    assert outside.code == "forbidden"
    assert isinstance(own, claims.Granted)
    assert isinstance(taken, ApiError)
    assert taken.code == "claimed"
    assert isinstance(unknown, ApiError)
    assert unknown.code == "not_found"
    (released,) = _together(claims.release(state, _agent("cc1"), first.response.claim_id))
    assert released is None
    (alone,) = _together(claims.acquire(state, _agent("cc1"), ask("C00000001")))
    assert alone.response.budget == first.response.budget


def _stored_contacts(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(m.Contact.contact_id).order_by("contact_id")).scalars())


def _lose_the_transaction(conn: Connection) -> None:
    """Imitate SQLITE_FULL (or a lost transaction on PostgreSQL): the driver rolls back the
    WHOLE transaction, the connection still answers, and the statement fails."""
    driver: Any = conn.connection.driver_connection
    driver.execute("ROLLBACK")
    if conn.dialect.name == "sqlite":
        raise sqlite3.OperationalError("database or disk is full")
    raise psycopg.OperationalError("the transaction was lost")


def test_a_request_that_loses_the_whole_transaction_fails_the_whole_group(
    state: AppState, sync_engine: Engine
) -> None:
    first = contact("C00000001", started=day_time(2))
    last = contact("C00000002", started=day_time(2))
    answers = _together(
        ledger.push(state, _agent("cc1"), _request(first)),
        state.writer.submit(state, _lose_the_transaction),
        ledger.push(state, _agent("cc1"), _request(last, device="dev-2")),
    )
    assert state.writer.largest == 3
    stored = _stored_contacts(sync_engine)
    for item, answer in ((first, answers[0]), (last, answers[2])):
        # nothing is answered "applied" that was not stored
        assert _statuses(answer) == (["applied"] if item["id"] in stored else ["retry"])
    assert stored == []  # the group's transaction was lost: none of it is stored
    assert isinstance(answers[1], Exception)
    again = _together(
        ledger.push(state, _agent("cc1"), _request(first)),
        ledger.push(state, _agent("cc1"), _request(last, device="dev-2")),
    )
    assert [_statuses(a) for a in again] == [["applied"], ["applied"]]
    assert _stored_contacts(sync_engine) == sorted([first["id"], last["id"]])


def test_a_database_fault_in_a_merged_pass_fails_only_the_batch_that_caused_it(
    state: AppState, sync_engine: Engine
) -> None:
    before = contact("C00000002", started=day_time(2))
    poisoned = contact("C00000001", started=day_time(2))
    after = contact("C00000002", started=day_time(6))
    poison(sync_engine, poisoned["id"], errcode=PERMANENT)
    try:
        answers = _together(
            ledger.push(state, _agent("cc1"), _request(before, device="dev-1")),
            ledger.push(state, _agent("cc1"), _request(poisoned, device="dev-2")),
            ledger.push(state, _agent("cc1"), _request(after, device="dev-3")),
        )
    finally:
        cure(sync_engine)
    assert state.writer.largest == 3  # one group, the three batches one merged pass
    # the culprit answers retry (docs/sync.md), not a server error; the others are stored
    assert [_statuses(a) for a in answers[:2]] == [["applied"], ["retry"]]
    assert _statuses(answers[2])[0] in ("applied", "applied_with_conflict")
    assert _stored_contacts(sync_engine) == sorted([before["id"], after["id"]])
    seqs = [answers[0].results[0].server_seq, answers[2].results[0].server_seq]
    assert seqs == sorted(seqs)


def test_debug_log_says_groups_per_second_and_their_mean_size(
    state: AppState, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With the writer's logger at DEBUG, an operator sees how many groups formed per second and
    how many requests each took (at most one line a second)."""
    ticks = iter([100.0, 100.4, 101.0, 101.5])  # the clock as each of four groups forms
    monkeypatch.setattr(writer, "_clock", lambda: next(ticks))
    caplog.set_level(logging.DEBUG, logger="agentdesk_sync.writer")

    async def main() -> None:
        await ledger.push(state, _agent("cc1"), _request(contact("C00000001", started=day_time(1))))
        await asyncio.gather(  # one group of three
            *(
                ledger.push(state, _agent("cc1"), _request(contact(cid, started=day_time(2))))
                for cid in ("C00000002", "C00000003", "C00000004")
            )
        )
        await ledger.push(state, _agent("cc1"), _request(contact("C00000005", started=day_time(3))))
        await ledger.push(state, _agent("cc1"), _request(contact("C00000006", started=day_time(4))))

    asyncio.run(main())
    lines = [r.getMessage() for r in caplog.records if r.message.startswith("write groups")]
    # the first group starts the count; 1.0 s later the third group logs the two groups since
    assert lines == [
        "write groups: 2.0/s, mean 2.00 requests (total 3 groups, 5 requests, largest 3)"
    ]
