"""Call-back slots honour the policy; chart figures are plain maths."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agentdesk.domain import Channel, CustomerAttributes, UsageMonth
from agentdesk.policy import Outcome, default_rules, evaluate
from agentdesk.services.customer import appointment_slots
from agentdesk.services.dto import CampaignProgress
from agentdesk.services.figures import acceptance_rate, control_lift, usage_series

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_call_back_slots_skip_quiet_hours_and_are_half_hours() -> None:
    customer = CustomerAttributes(
        customer_id="C1", msisdn="13800000001", name="王小明", region_code="440100"
    )
    rules = default_rules()
    now = datetime(2026, 11, 26, 12, 5, tzinfo=SHANGHAI).astimezone(UTC)
    slots = appointment_slots(
        lambda at: evaluate(customer, Channel.OUTBOUND_CALL, None, (), (), rules, at), now, limit=24
    )
    assert len(slots) == 24
    assert slots[0] >= now + timedelta(hours=1)
    for slot in slots:
        local = slot.astimezone(SHANGHAI)
        assert local.minute in (0, 30)
        assert 9 <= local.hour < 21, f"{local} is inside quiet hours"
    assert any(s.astimezone(SHANGHAI).date() > now.astimezone(SHANGHAI).date() for s in slots)


def test_no_slot_when_the_customer_must_never_be_called() -> None:
    customer = CustomerAttributes(
        customer_id="C1",
        msisdn="13800000001",
        name="王小明",
        region_code="440100",
        do_not_contact=True,
    )
    rules = default_rules()
    now = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    slots = appointment_slots(
        lambda at: evaluate(customer, Channel.OUTBOUND_CALL, None, (), (), rules, at), now
    )
    assert slots == ()


def test_usage_series_is_oldest_first_and_in_gigabytes() -> None:
    usage = [
        UsageMonth(
            customer_id="C1",
            month=f"2026-{m:02d}",
            voice_min=m,
            data_mb=1024 * m,
            sms_count=0,
            arpu=float(m),
        )
        for m in (3, 1, 2)
    ]
    series = usage_series(usage)
    assert series.months == ("2026-01", "2026-02", "2026-03")
    assert series.data_gb == (1.0, 2.0, 3.0)


def test_control_lift_is_target_rate_minus_control_rate() -> None:
    progress = CampaignProgress(
        campaign_id="K1",
        name="k",
        targets=100,
        contacted=50,
        reached=40,
        accepted=20,
        control_size=50,
        control_accepted=5,
    )
    assert acceptance_rate(20, 100) == 0.2
    assert control_lift(progress) == 0.2 - 0.1
    no_control = CampaignProgress(
        campaign_id="K1", name="k", targets=10, contacted=0, reached=0, accepted=0
    )
    assert control_lift(no_control) is None


@pytest.mark.timeout(20)
def test_a_deferral_seconds_after_a_half_hour_moves_to_the_next_one() -> None:
    # a contact logged at 09:00:30 frees the customer at 09:00:30 the next day: the search
    # used to round that back to 09:00, ask again, and loop for ever (the open never ended)
    customer = CustomerAttributes(
        customer_id="C1", msisdn="13800000001", name="王小明", region_code="440100"
    )
    now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    free_at = datetime(2026, 11, 26, 2, 0, 30, tzinfo=UTC)
    rules = default_rules()

    def decide(at: datetime) -> Any:
        decision = evaluate(customer, Channel.OUTBOUND_CALL, None, (), (), rules, at)
        if at < free_at:
            return replace(decision, outcome=Outcome.DEFERRED, deferred_until=free_at)
        return decision

    slots = appointment_slots(decide, now, limit=3)
    assert slots[0] == datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    assert len(slots) == 3
