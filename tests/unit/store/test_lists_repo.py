"""Work lists: call list (never the control group), portfolio, visit plan."""

from __future__ import annotations

import pytest

from agentdesk.protocol import VisitPlanPayload
from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes
from agentdesk.store.lists_repo import call_list, portfolio, visit_plan
from agentdesk.store.outbox import record_intent
from tests.unit.store.conftest import T0, world_changes


@pytest.fixture
def world(db: CacheDB) -> CacheDB:
    with db.sync_writer() as s:
        apply_changes(s, world_changes(), "c", True)
    return db


def test_call_list_is_by_score_without_control_group(world: CacheDB) -> None:
    with world.reader() as r:
        rows = call_list(r, ["K0001"], now=T0)
        second_page = call_list(r, ["K0001"], limit=1, offset=1, now=T0)
        none = call_list(r, [])
    assert [(x.customer_id, x.attempts, x.reached) for x in rows] == [
        ("C00000001", 1, 1), ("C00000002", 0, 0),
    ]  # fmt: skip
    assert rows[0].marketing_contacts_7d == 1
    assert rows[0].last_contact_at is not None
    assert [x.customer_id for x in second_page] == ["C00000002"]
    assert none == []


def test_portfolio_lists_the_managers_customers(world: CacheDB) -> None:
    with world.reader() as r:
        rows = portfolio(r, "am1", now=T0)
    assert {x.customer_id for x in rows} == {"C00000001", "C00000002"}
    first = next(x for x in rows if x.customer_id == "C00000001")
    assert (first.contacts_30d, first.open_orders) == (2, 1)


def test_visit_plan_reads_the_local_plan_in_order(world: CacheDB) -> None:
    with world.writer() as w:
        record_intent(
            w,
            "visit_plan",
            VisitPlanPayload(day="2026-11-27", customer_ids=["C00000002", "C00000001"]),
        )
    with world.reader() as r:
        rows = visit_plan(r, "2026-11-27")
        other = visit_plan(r, "2026-11-28")
    assert [x.customer_id for x in rows] == ["C00000002", "C00000001"]
    assert other == []
