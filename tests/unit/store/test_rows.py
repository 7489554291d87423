"""Stored customer rows drop default fields without changing what is read back."""

from __future__ import annotations

from datetime import UTC, date, datetime

from agentdesk.domain import (
    Channel,
    ChurnInfo,
    CustomerAttributes,
    CustomerView,
    Segment,
    ValueInfo,
    VipLevel,
)
from agentdesk.protocol import from_row, to_row
from agentdesk.store.codec import dumps
from agentdesk.store.rows import compact_customer_row


def test_compact_row_reads_back_as_the_same_view() -> None:
    view = CustomerView(
        attributes=CustomerAttributes(
            customer_id="C00000042",
            msisdn="13800138000",
            name="欧阳娜娜",
            birth_date=date(1990, 5, 1),
            vip_level=VipLevel.GOLD,
            is_comm_customer=False,  # differs from a True default: must be kept
            supports_gprs=True,  # equals the default: may go
            sensitive_channels=(Channel.SMS,),
            segment_id=Segment.SS6,
            suspended_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
            extra={"name_pinyin": "Ouyang Nana"},
        ),
        value=ValueInfo(value_tier=1, fee_alert=True),
        churn=ChurnInfo(),
        holding_stats={"plans": 2.0},
        row_seq=9,
    )
    row = to_row(view)
    row.pop("holdings")
    row.pop("usage")
    row["future_field"] = {"kept": True}
    small = compact_customer_row(row)
    assert len(dumps(small)) < len(dumps(row)) / 3
    assert small["attributes"]["is_comm_customer"] is False
    assert "supports_gprs" not in small["attributes"]
    assert "churn" not in small
    assert small["future_field"] == {"kept": True}
    assert from_row(small, CustomerView) == from_row(row, CustomerView) == view
