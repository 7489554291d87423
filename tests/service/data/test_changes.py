"""The change feed: sequence numbers are consecutive, commit-ordered, and stamped on the rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from agentdesk_sync.db.changes import (
    ChangeRow,
    append_changes,
    lock_sequencer,
    pipelined,
    reserve_seqs,
    track_sequencer,
)
from agentdesk_sync.db.engine import make_engine, migrate
from agentdesk_sync.db.models import ChangeLog, Customer, TargetMember

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    migrate(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _customer(cid: str) -> Customer:
    return Customer(
        customer_id=cid, msisdn="13800000000", name="王伟", id_type="national_id",
        id_number="", region_code="440100", segment_id="SS3", account_manager_id=None,
        row={"customer_id": cid}, updated_at=NOW,
    )  # fmt: skip


def _put(cid: str) -> ChangeRow:
    return ChangeRow("customer", cid, "put", {"customer_id": cid}, "440100", cid)


def test_seqs_are_consecutive_and_rows_stamped(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all([_customer("C1"), _customer("C2")])
        first = append_changes(session, [_put("C1"), _put("C2")])
        session.commit()
    with Session(engine) as session:
        session.add(_customer("C3"))
        second = append_changes(session, [_put("C3"), _put("C1")])
        session.commit()
        stamped = dict(session.execute(select(Customer.customer_id, Customer.row_seq)).all())
        log = session.execute(select(ChangeLog.server_seq, ChangeLog.entity_id)).all()
    assert first == [1, 2]
    assert second == [3, 4]
    assert stamped == {"C1": 4, "C2": 2, "C3": 3}
    assert sorted(log) == [(1, "C1"), (2, "C2"), (3, "C3"), (4, "C1")]


def test_big_batch_is_stamped_with_the_newest_seq(engine: Engine) -> None:
    ids = [f"C{i:08d}" for i in range(1200)]
    with Session(engine) as session:
        session.add_all([_customer(cid) for cid in ids])
        seqs = append_changes(session, [*(_put(cid) for cid in ids), _put(ids[0])])
        session.commit()
        stamped = dict(session.execute(select(Customer.customer_id, Customer.row_seq)).all())
        count = session.scalar(select(text("count(*)")).select_from(ChangeLog))
    assert seqs == list(range(1, 1202))
    assert stamped[ids[0]] == 1201
    assert stamped[ids[-1]] == 1200
    assert count == 1201


def test_removes_and_composite_targets(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(TargetMember(campaign_id="K0001", customer_id="C1", row={}))
        append_changes(
            session,
            [ChangeRow("target", "K0001:C1", "put", {}), ChangeRow("customer", "C9", "remove")],
        )
        session.commit()
        member = session.get(TargetMember, ("K0001", "C1"))
        removed = session.scalars(select(ChangeLog).where(ChangeLog.op == "remove")).one()
    assert member is not None
    assert member.row_seq == 1
    assert removed.entity_id == "C9"
    assert removed.row is None


def test_empty_batch_takes_no_number(engine: Engine) -> None:
    with Session(engine) as session:
        assert append_changes(session, []) == []
        session.commit()
    with Session(engine) as session:
        assert append_changes(session, [_put("C1")]) == [1]


def test_second_writer_waits_for_the_first_commit(pg_url: str) -> None:
    """On PostgreSQL the sequencer row lock serialises committers: seq order = commit order."""
    migrate(pg_url)
    engine = make_engine(pg_url)
    first = Session(engine)
    taken = append_changes(first, [_put("A")])
    with Session(engine) as second:
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            append_changes(second, [_put("B")])
    first.commit()
    first.close()
    with Session(engine) as third:
        later = append_changes(third, [_put("B")])
        third.commit()
    engine.dispose()
    assert taken == [1]
    assert later == [2]


def test_sqlite_writer_lock_serialises_committers(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    migrate(url)
    engine = make_engine(url, busy_timeout_ms=50)
    first = Session(engine)
    taken = append_changes(first, [_put("A")])
    with Session(engine) as second, pytest.raises(OperationalError, match="locked"):
        append_changes(second, [_put("B")])
    first.commit()
    first.close()
    with Session(engine) as third:
        assert append_changes(third, [_put("B")]) == [2]
        third.commit()
    engine.dispose()
    assert taken == [1]


def _tracked(pg_url: str) -> Engine:
    """An engine whose transactions may track the sequencer, as the service's write groups do."""
    migrate(pg_url)
    eng = make_engine(pg_url)
    track_sequencer(eng)
    return eng


def test_a_tracked_group_numbers_its_changes_without_gaps_after_a_rolled_back_savepoint(
    pg_url: str,
) -> None:
    eng = _tracked(pg_url)
    try:
        with eng.connect() as conn, conn.begin():
            lock_sequencer(conn, track=True)
            session = Session(bind=conn)
            first = append_changes(session, [_put("A")])
            with conn.begin_nested() as inner:
                append_changes(session, [_put("B"), _put("C")])
                inner.rollback()  # that request failed: its numbers are not used
            with pipelined(conn):
                second = reserve_seqs(conn, 2)
        with eng.connect() as conn:
            stored = conn.execute(select(ChangeLog.server_seq)).scalars().all()
            value = conn.execute(text("SELECT value FROM sequencer")).scalar_one()
    finally:
        eng.dispose()
    assert first == [1]
    assert second == [2, 3]  # no gap where the rolled-back savepoint's numbers were
    assert stored == [1]
    assert value == 3


def test_a_tracked_group_never_hands_out_a_number_twice(pg_url: str) -> None:
    eng = _tracked(pg_url)
    try:
        with eng.connect() as conn, conn.begin():
            lock_sequencer(conn, track=True)
            # something bumps the sequencer behind the tracker's back (no writer of the
            # service does; an oversight must fail the write, not reuse a number)
            conn.exec_driver_sql("UPDATE sequencer SET value = value + 5")
            with pytest.raises(RuntimeError, match="moved"), pipelined(conn):
                reserve_seqs(conn, 1)
    finally:
        eng.dispose()
