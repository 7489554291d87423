"""The one-line explanations agents read, in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agentdesk import i18n
from agentdesk.domain import Channel
from agentdesk.policy import Decision, Outcome, Reason, Violation
from agentdesk.policy.texts import (
    channel_label,
    explain,
    explain_decision,
    explain_violation,
    format_span,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNTIL = datetime(2026, 11, 28, 2, 14, tzinfo=UTC)  # 10:14 in Shanghai


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    i18n.install("en")
    yield
    i18n.install("en")


def test_cap_line_says_count_limit_and_when_it_frees_up() -> None:
    cap = Reason(code="frequency_cap", detail={"limit": 2, "used": 2, "window": "7d"}, until=UNTIL)
    assert explain(cap, tz=SHANGHAI) == (
        "2 marketing contacts in the last 7 days (limit 2); free again on 28 Nov 10:14"
    )
    i18n.install("zh_CN")
    assert (
        explain(cap, tz=SHANGHAI)
        == "最近7天内已有 2 次营销接触(上限 2 次);11月28日 10:14 后可再次接触"
    )


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (
            Reason(
                code="channel_cap",
                detail={"limit": 1, "used": 1, "window": "7d", "channels": ["outbound_call"]},
            ),
            "1 outbound call contact in the last 7 days (limit 1)",
        ),
        (
            Reason(code="campaign_attempts", detail={"limit": 3, "used": 3}),
            "3 attempts already made for this campaign (limit 3)",
        ),
        (
            Reason(code="campaign_reached", detail={"limit": 1, "used": 1}),
            "Already reached for this campaign (limit 1)",
        ),
        (
            Reason(code="declined_too_often", detail={"limit": 3, "used": 3, "window": "90d"}),
            "Declined 3 times in 90 days: this campaign is over for the customer",
        ),
        (Reason(code="do_not_contact"), "The customer asked not to be contacted for marketing"),
        (Reason(code="control_group"), "Control group of this campaign: never offered"),
        (
            Reason(code="sensitive_channel", detail={"channel": "sms"}),
            "Sensitive number: no marketing by SMS",
        ),
        (
            Reason(code="consent", detail={"channel": "wap"}),
            "The customer opted out of marketing by wap",
        ),
        (
            Reason(
                code="min_gap",
                detail={
                    "last_at": "2026-11-27T02:14:00+00:00",
                    "last_channel": "store",
                    "gap": "24h",
                },
            ),
            "Last marketing contact 27 Nov 10:14 by store; keep 24 hours apart",
        ),
        (
            Reason(code="quiet_hours", detail={"start": "21:00", "end": "09:00"}),
            "Quiet hours 21:00–09:00 in the customer's local time",
        ),
        (
            Reason(
                code="suppressed",
                detail={"declined_at": "2026-11-01T02:14:00+00:00", "window": "30d"},
            ),
            "Offer declined on 1 Nov 10:14: not offered again for 30 days",
        ),
        (
            Reason(
                code="claimed_by_other",
                detail={"holder_id": "zhang", "holder_name": "", "channel": "field_visit"},
                until=UNTIL,
            ),
            "zhang is working with this customer (field visit) until 28 Nov 10:14",
        ),
        (
            Reason(code="priority", detail={"campaign_id": "K0002", "campaign_name": ""}),
            "The last free contact slot goes to the higher-priority campaign K0002",
        ),
        (
            Reason(code="outside_validity", detail={"valid_from": "x"}),
            "The campaign has not started yet",
        ),
        (Reason(code="outside_validity", detail={"valid_to": "x"}), "The campaign is not running"),
    ],
)
def test_every_reason_has_a_line(reason: Reason, text: str) -> None:
    assert explain(reason, tz=SHANGHAI) == text


def test_spans_and_channels() -> None:
    assert [format_span(w) for w in ("1d", "24h", "1h", "90m", "1m")] == [
        "24 hours",
        "24 hours",
        "1 hour",
        "90 minutes",
        "1 minute",
    ]
    assert format_span("2d") == "2 days"
    assert channel_label("dealer") == "dealer"


def test_decision_lines() -> None:
    assert explain_decision(Decision(outcome=Outcome.ALLOWED)) == "Contact allowed"
    gap = Reason(code="quiet_hours", detail={"start": "21:00", "end": "09:00"}, until=UNTIL)
    deferred = Decision(outcome=Outcome.DEFERRED, reasons=(gap,), deferred_until=UNTIL)
    assert explain_decision(deferred, tz=SHANGHAI).startswith("Not now: Quiet hours")
    assert explain_decision(deferred, tz=SHANGHAI).endswith("Possible from 28 Nov 10:14")
    dropped = Decision(outcome=Outcome.BLOCKED, reasons=(Reason(code="do_not_contact"),))
    assert explain_decision(dropped).startswith("Not for this customer:")
    held = Reason(
        code="claimed_by_other", detail={"holder_id": "li", "channel": "store"}, until=UNTIL
    )
    assert explain_decision(Decision(outcome=Outcome.BLOCKED, reasons=(held,))).startswith(
        "Blocked for now: li is working"
    )


def test_violation_lines() -> None:
    cap = Violation(type="frequency_cap", rule_id="cap.global.7d", limit="2/7d", count_after=3)
    assert explain_violation(cap) == "Over the contact limit: 3 contacts where 2/7d are allowed"
    gap = Violation(type="min_gap", rule_id="gap.24h", limit="24h", count_after=2)
    assert explain_violation(gap) == "Too close to another marketing contact (keep 24 hours apart)"
    claim = Violation(
        type="claimed_by_other",
        rule_id="claim.lease",
        other_agent_id="zhang",
        other_channel=Channel.STORE,
        claim_until=UNTIL,
    )
    assert explain_violation(claim, tz=SHANGHAI) == (
        "Made while zhang held the customer (until 28 Nov 10:14)"
    )
    quiet = Violation(type="quiet_hours", rule_id="quiet.21-09")
    assert explain_violation(quiet) == "Made during quiet hours"
    i18n.install("zh_CN")
    assert explain_violation(quiet) == "在免打扰时段内接触"
    assert explain_violation(Violation(type="new_kind", rule_id="x")) == "new_kind"
    later = UNTIL + timedelta(days=1)
    assert "11月29日" in explain(Reason(code="do_not_contact", until=later), tz=SHANGHAI)
