"""Supervisor figures are coherent and every conflict is worded, in Chinese and in English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agentdesk.domain import Channel, Contact, Holding, ResultCode, Role
from agentdesk.protocol import Change, to_row
from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes

NOW = datetime.now(UTC)


def _contact(i: int, code: ResultCode, conflict: dict[str, Any] | None = None) -> Change:
    contact = Contact(
        contact_id=f"T{i:04d}",
        customer_id=f"C{i:08d}",
        channel=Channel.OUTBOUND_CALL,
        started_at=NOW - timedelta(hours=2, minutes=i),
        ended_at=NOW - timedelta(hours=2, minutes=i - 1),
        result_code=code,
        staff_id="call_centre_1",
        campaign_id="K0001",
    )
    row = to_row(contact)
    if conflict is not None:
        row["result"] = {"conflict": conflict}
    return Change(seq=10_000 + i, entity="contact", op="put", id=contact.contact_id, row=row)


def _seed(db: CacheDB) -> None:
    earlier = Contact(
        contact_id="STORE1",
        customer_id="C00000001",
        channel=Channel.STORE,
        started_at=NOW - timedelta(hours=5),
        ended_at=NOW - timedelta(hours=5),
        result_code=ResultCode.REACHED_NO_OFFER,
        staff_id="clerk_7",
    )
    changes = [
        Change(seq=9_000, entity="contact", op="put", id="STORE1", row=to_row(earlier)),
        _contact(
            1,
            ResultCode.REACHED_ACCEPTED,
            {
                "type": "min_gap",
                "rule_id": "R-GAP",
                "limit": "PT24H",
                "other": {"channel": "store", "agent_id": "clerk_7", "contact_ids": ["STORE1"]},
            },
        ),
        _contact(2, ResultCode.NOT_REACHED_NO_ANSWER),
        _contact(3, ResultCode.REACHED_DECLINED),
    ]
    # many customers already hold a product of the campaign (take-up outside any contact)
    for i in range(10, 40):
        holding = Holding(
            holding_id=f"HX{i}",
            customer_id=f"C{i:08d}",
            product_code="P0",
            product_name="5G",
            kind="plan",
            monthly_fee=129.0,
            started_on=NOW.date(),
        )
        changes.append(
            Change(seq=11_000 + i, entity="holding", op="put", id=f"HX{i}", row=to_row(holding))
        )
    with db.sync_writer() as conn:
        apply_changes(conn, changes, "cursor-2", False)


def test_accepted_never_exceeds_reached_or_contacted(seeded_db: CacheDB, build: Any) -> None:
    _seed(seeded_db)
    stats = build(Role.SUPERVISOR).services.supervisor.stats()
    (k1,) = [c for c in stats.campaigns if c.campaign_id == "K0001"]
    assert (k1.contacted, k1.reached, k1.accepted) == (3, 2, 1)
    assert k1.treatment_took is not None
    assert k1.treatment_took > k1.accepted
    for c in stats.campaigns:
        assert c.accepted <= c.reached <= c.contacted


def test_conflicts_are_worded_with_who_where_when_and_rule(
    qtbot: Any, seeded_db: CacheDB, make_ui: Any
) -> None:
    _seed(seeded_db)
    ui = make_ui(Role.SUPERVISOR, language="zh_CN")
    view = ui.window.home
    with qtbot.waitSignal(view.sig_loaded, timeout=20000):
        view.refresh()
    model = view.conflicts.rows_model
    assert model.rowCount() == 1
    kind = model.index(0, 2).data()
    detail = model.index(0, 3).data()
    assert kind == "接触间隔过短"
    assert "clerk_7" in detail
    assert "营业厅" in detail
    assert "R-GAP" in detail
    assert "min" not in detail
    assert "_" not in kind
    ui.language.install("en")
    ui.window.retranslate()
    detail = model.index(0, 3).data()
    assert model.index(0, 2).data() == "Too close together"
    assert "Other contact: clerk_7 by Store on" in detail
    assert "(rule R-GAP)" in detail
