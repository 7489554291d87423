"""The lines that explain why an offer is recommended or held back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentdesk import i18n
from agentdesk.policy import Reason
from agentdesk.recommend.texts import explain_factor, explain_suppression


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    i18n.install("en")
    yield
    i18n.install("en")


@pytest.mark.parametrize(
    ("code", "detail", "text"),
    [
        ("bundle_expiry", {"days": 21}, "bundle expires in 21 days"),
        ("data_over_plan", {"ratio": 3.0, "months": 3}, "data usage 3.0× plan for 3 months"),
        ("churn_risk", {"level": "high"}, "churn risk high"),
        ("churn_risk", {"level": "odd"}, "churn risk odd"),
        (
            "segment_match",
            {"segment": "SS2", "name": "high_value_trendy"},
            "offer made for segment SS2 high value trendy",
        ),
        (
            "high_value",
            {"segment": "SS9", "name": "custom"},
            "high-value customer (SS9 custom)",
        ),
        ("on_target_list", {"wave": 2}, "on the campaign's target list (wave 2)"),
        ("campaign_priority", {"priority": 80}, "campaign priority 80"),
        ("prefers_channel", {"rank": 1}, "prefers this channel"),
        ("assigned_channel", {"channel": "field_visit"}, "the marketing order assigns field visit"),
        ("mystery", {}, "mystery"),
    ],
)
def test_factor_lines(code: str, detail: dict[str, object], text: str) -> None:
    assert explain_factor(Reason(code=code, detail=detail)) == text


def test_factor_lines_in_chinese() -> None:
    i18n.install("zh_CN")
    assert explain_factor(Reason(code="churn_risk", detail={"level": "high"})) == "离网风险高"
    assert (
        explain_factor(Reason(code="bundle_expiry", detail={"days": 21})) == "捆绑合约 21 天后到期"
    )


def test_suppression_lines() -> None:
    assert explain_suppression(Reason(code="already_owns")) == (
        "the customer already has this product"
    )
    assert explain_suppression(Reason(code="outside_validity", detail={"campaign_id": "K9"})) == (
        "the offer's campaign is not known or not running"
    )
    bound = Reason(code="under_contract", detail={"ends_on": "2027-06-01", "days": 187})
    assert explain_suppression(bound) == "under contract for 187 more days"
    ended = Reason(code="outside_validity", detail={"valid_to": "2026-01-01T00:00:00+00:00"})
    assert explain_suppression(ended) == "The campaign is not running"
