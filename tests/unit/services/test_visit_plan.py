"""Today's visit plan in the local cache: order, edits keep claim answers, offline claiming."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentdesk.domain import Channel, ResultCode, Role, User
from agentdesk.protocol import Change
from agentdesk.services.customer import ClaimError, CustomerService
from agentdesk.services.dto import ClaimReleases, OutcomeDraft, UserSession
from agentdesk.services.outcome import OutcomeService
from agentdesk.services.queues import VisitPlanService
from agentdesk.store import CacheDB, transaction, visit_plan_repo
from agentdesk.store.apply import apply_changes
from agentdesk.store.codec import ts_text
from tests.unit.store.conftest import customer_change

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
DAY = NOW.date().isoformat()
IDS = [f"C{i:08d}" for i in range(1, 6)]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[CacheDB]:
    cache = CacheDB.open(tmp_path / "cache.db")
    changes: list[Change] = [
        customer_change(i, cid, f"王{i}", f"1380000{i:04d}") for i, cid in enumerate(IDS, 1)
    ]
    with cache.sync_writer() as conn:
        apply_changes(conn, changes, "cursor-1", True)
    yield cache
    cache.close()


def _session(db: CacheDB) -> UserSession:
    user = User(user_id="am1", name="客户经理", role=Role.FIELD)
    return UserSession(user=user, device_id="d", cache_path=db.path, token=None, online=False)


def _service(db: CacheDB, clock: datetime = NOW) -> VisitPlanService:
    return VisitPlanService(db, _session(db), None, clock=lambda: clock)


def test_saved_plan_keeps_its_order_and_drops_duplicates(db: CacheDB) -> None:
    service = _service(db)
    plan = service.save_plan([IDS[3], IDS[0], IDS[3], IDS[2]])
    assert [e.customer_id for e in plan] == [IDS[3], IDS[0], IDS[2]]
    assert all(e.planned for e in plan)
    assert [e.customer_id for e in _service(db).today()] == [IDS[3], IDS[0], IDS[2]]
    tomorrow = _service(db, NOW + timedelta(days=1)).today()
    assert [e.customer_id for e in tomorrow] != [IDS[3], IDS[0], IDS[2]]  # a plan is per day


def test_reordering_keeps_claim_answers_and_removing_drops_them(db: CacheDB) -> None:
    service = _service(db)
    service.save_plan(IDS[:3])
    until = ts_text(NOW + timedelta(hours=12)) or ""
    with db.writer() as conn, transaction(conn):
        visit_plan_repo.record_claims(
            conn,
            DAY,
            {IDS[0]: ("claim-1", 3, until)},
            {IDS[1]: ("claimed", {"holder": {"user_id": "agent2", "name": "坐席二"}})},
        )
    plan = {e.customer_id: e for e in service.save_plan([IDS[2], IDS[1], IDS[0]])}
    assert plan[IDS[0]].claim_until == NOW + timedelta(hours=12)
    assert (plan[IDS[1]].refused, plan[IDS[1]].refused_by) == ("claimed", "坐席二")
    assert plan[IDS[2]].claim_until is None
    assert plan[IDS[2]].refused is None
    service.save_plan([IDS[1]])
    # offline the claim cannot be given back yet: re-added, the visit still holds it
    assert service.release_removed().waiting == ((IDS[0], NOW + timedelta(hours=12)),)
    again = service.save_plan([IDS[1], IDS[0]])
    assert again[1].claim_until == NOW + timedelta(hours=12)
    assert service.release_removed() == ClaimReleases()  # nothing left to give back
    service.save_plan([IDS[1]])
    later = _service(db, NOW + timedelta(hours=13))  # the claim ran out meanwhile
    assert later.release_removed().released == (IDS[0],)  # forgotten, nothing to give back
    again = later.save_plan([IDS[1], IDS[0]])  # re-added: its old claim is gone
    assert again[1].claim_until is None


def test_an_expired_pre_claim_no_longer_shows_as_claimed(db: CacheDB) -> None:
    _service(db).save_plan(IDS[:1])
    until = ts_text(NOW + timedelta(hours=1)) or ""
    with db.writer() as conn, transaction(conn):
        visit_plan_repo.record_claims(conn, DAY, {IDS[0]: ("claim-1", 1, until)}, {})
    later = _service(db, NOW + timedelta(hours=2)).today()
    assert later[0].claim_until is None


def test_claiming_offline_says_it_needs_a_connection_and_keeps_the_plan(db: CacheDB) -> None:
    service = _service(db)
    service.save_plan(IDS[:2])
    assert not service.online
    with pytest.raises(ClaimError, match="needs a connection"):
        service.claim_plan(IDS[:2])
    assert [e.customer_id for e in service.today()] == IDS[:2]


def test_a_plan_emptied_on_purpose_stays_empty(db: CacheDB) -> None:
    service = _service(db)
    assert service.today()  # before any edit: a suggestion of urgent customers
    service.save_plan(IDS[:2])
    assert service.save_plan([]) == []
    assert _service(db).today() == []  # not the suggestion again


def test_an_outcome_under_the_plans_claim_takes_it_off_the_plan(db: CacheDB) -> None:
    service = _service(db)
    service.save_plan(IDS[:2])
    until = ts_text(NOW + timedelta(hours=12)) or ""
    with db.writer() as conn, transaction(conn):
        visit_plan_repo.record_claims(conn, DAY, {IDS[0]: ("claim-1", 4, until)}, {})
    customers = CustomerService(db, _session(db), None, clock=lambda: NOW)
    own = customers.open(IDS[0]).own_claim
    assert own is not None
    assert (own.claim_id, own.fence, own.preclaimed) == ("claim-1", 4, True)
    assert customers.open(IDS[1]).own_claim is None
    OutcomeService(db, _session(db), clock=lambda: NOW).record(
        OutcomeDraft(
            customer_id=IDS[0],
            channel=Channel.FIELD_VISIT,
            result_code=ResultCode.REACHED_NO_OFFER,
            started_at=NOW - timedelta(minutes=10),
            ended_at=NOW,
            claim_id="claim-1",
            fence=4,
        )
    )
    assert service.today()[0].claim_until is None  # the outcome gives it back when pushed
    assert customers.open(IDS[0]).own_claim is None
