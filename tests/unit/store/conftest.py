"""Fixtures of the store tests: an open cache in ``tmp_path`` and wire-row builders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentdesk.domain import (
    Channel,
    ChurnInfo,
    Contact,
    CustomerAttributes,
    CustomerView,
    ResultCode,
    ValueInfo,
)
from agentdesk.protocol import Change, to_row, usage_row
from agentdesk.store import CacheDB

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty cache file, migrated once per session and copied by ``db``."""
    path = tmp_path_factory.mktemp("template") / "cache.db"
    CacheDB.open(path).close()
    return path


@pytest.fixture
def db(tmp_path: Path, template_db: Path) -> Iterator[CacheDB]:
    """A fresh, migrated cache file."""
    path = tmp_path / "cache.db"
    shutil.copyfile(template_db, path)
    cache = CacheDB.open(path)
    yield cache
    cache.close()


def customer_row(
    customer_id: str,
    name: str,
    msisdn: str,
    id_number: str = "440103199001011234",
    region_code: str = "440100",
    **extra: Any,
) -> dict[str, Any]:
    """The wire row of a ``customer`` change."""
    attrs = CustomerAttributes(
        customer_id=customer_id,
        msisdn=msisdn,
        name=name,
        id_number=id_number,
        region_code=region_code,
        **extra,
    )
    view = CustomerView(
        attributes=attrs, value=ValueInfo(value_tier=2, arpu_3m=88.0), churn=ChurnInfo()
    )
    row = to_row(view)
    row.pop("holdings", None)
    row.pop("usage", None)
    return row


def customer_change(seq: int, customer_id: str, name: str, msisdn: str, **kw: Any) -> Change:
    """A ``put`` of one customer."""
    return Change(
        seq=seq,
        entity="customer",
        op="put",
        id=customer_id,
        row=customer_row(customer_id, name, msisdn, **kw),
    )


def make_contact(
    customer_id: str = "C00000001", contact_id: str = "", minutes: int = 0, **kw: Any
) -> Contact:
    """A reached, no-offer outbound call."""
    start = T0 + timedelta(minutes=minutes)
    fields: dict[str, Any] = {
        "contact_id": contact_id,
        "customer_id": customer_id,
        "channel": Channel.OUTBOUND_CALL,
        "started_at": start,
        "ended_at": start + timedelta(minutes=3),
        "result_code": ResultCode.REACHED_NO_OFFER,
        "staff_id": "agent1",
    }
    fields.update(kw)
    return Contact(**fields)


def contact_change(seq: int, contact: Contact, result: dict[str, Any] | None = None) -> Change:
    """A pulled ``contact`` change (the ledger row + the push result)."""
    row = to_row(contact)
    row["result"] = result
    row["server_seq"] = seq
    return Change(seq=seq, entity="contact", op="put", id=contact.contact_id, row=row)


def world_changes() -> list[Change]:
    """A small synced world: 3 customers, a campaign with offers and targets, contacts."""
    from agentdesk.domain import (
        Campaign,
        Holding,
        MarketingOrder,
        Offer,
        OrderStatus,
        TargetListEntry,
        UsageMonth,
    )

    campaign = Campaign(
        campaign_id="K0001",
        name="5G upgrade",
        channels=(Channel.OUTBOUND_CALL,),
        strategy="upsell",
        target_group="SS1",
        valid_from=T0 - timedelta(days=30),
        valid_to=T0 + timedelta(days=30),
        created_at=T0 - timedelta(days=40),
    )
    offer = Offer(
        offer_id="O0001", campaign_id="K0001", title="5G 128", product_code="P5G", monthly_fee=128
    )
    seq = iter(range(1, 1000))
    out = [
        customer_change(next(seq), "C00000001", "张三", "13800138000", account_manager_id="am1"),
        customer_change(next(seq), "C00000002", "李四", "13900139000", account_manager_id="am1"),
        customer_change(next(seq), "C00000003", "王五", "13700137000"),
        Change(seq=next(seq), entity="campaign", op="put", id="K0001", row=to_row(campaign)),
        Change(seq=next(seq), entity="offer", op="put", id="O0001", row=to_row(offer)),
    ]
    for cid, score, control in (("C00000001", 0.9, False), ("C00000002", 0.5, False),
                                ("C00000003", 0.7, True)):  # fmt: skip
        entry = TargetListEntry(
            customer_id=cid, campaign_id="K0001", score=score, in_control_group=control
        )
        out.append(Change(seq=next(seq), entity="target", op="put", id=f"K0001:{cid}",
                          row=to_row(entry)))  # fmt: skip
    holding = Holding(
        holding_id="H1", customer_id="C00000003", product_code="P5G", product_name="5G", kind="plan"
    )
    out.append(Change(seq=next(seq), entity="holding", op="put", id="H1", row=to_row(holding)))
    months = [
        to_row(UsageMonth(customer_id="C00000001", month=month, voice_min=1, data_mb=2,
                          sms_count=3, arpu=50.0))
        for month in ("2026-09", "2026-10")
    ]  # fmt: skip
    out.append(Change(seq=next(seq), entity="usage_months", op="put", id="C00000001",
                      row=usage_row("C00000001", months)))  # fmt: skip
    order = MarketingOrder(order_id="M1", customer_id="C00000001", campaign_id="K0001",
                           channel=Channel.STORE, strategy="upsell", status=OrderStatus.OPEN,
                           created_at=T0)  # fmt: skip
    out.append(Change(seq=next(seq), entity="order", op="put", id="M1", row=to_row(order)))
    accepted = make_contact(contact_id="k1", campaign_id="K0001",
                            result_code=ResultCode.REACHED_ACCEPTED)  # fmt: skip
    conflict = make_contact(contact_id="k2", minutes=60, channel=Channel.STORE)
    out.append(contact_change(next(seq), accepted, {"status": "applied"}))
    out.append(contact_change(next(seq), conflict,
                              {"status": "applied_with_conflict",
                               "conflict": {"type": "frequency_cap"}}))  # fmt: skip
    out.append(Change(seq=next(seq), entity="rule_set", op="put", id="3", row={"v": 3}))
    out.append(Change(seq=next(seq), entity="redirect", op="put", id="C00000009",
                      row={"new_id": "C00000001"}))  # fmt: skip
    return out
