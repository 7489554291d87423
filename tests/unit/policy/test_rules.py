"""Rule sets are data: TOML in, dict rows out and back, with the [P] defaults."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from agentdesk.domain import Channel
from agentdesk.policy import RuleKind, RuleSet, default_rules, default_rules_path, load_rules
from agentdesk.policy.rules import format_window, parse_window


def test_default_rules_carry_the_proposed_defaults() -> None:
    rules = default_rules()
    by_id = {r.rule_id: r for r in rules.rules}
    assert default_rules_path().name == "default_rules.toml"
    assert (by_id["cap.global.7d"].limit, by_id["cap.global.7d"].window) == (2, timedelta(days=7))
    assert by_id["cap.outbound_call.7d"].channels == (Channel.OUTBOUND_CALL,)
    assert by_id["gap.24h"].window == timedelta(hours=24)
    assert (by_id["quiet.21-09"].start, by_id["quiet.21-09"].end) == (time(21), time(9))
    assert by_id["cooldown.offer.30d"].window == timedelta(days=30)
    assert (by_id["declines.campaign.90d"].limit, by_id["campaign.attempts"].limit) == (3, 3)
    assert rules.timezone_for("440100") == "Asia/Shanghai"


def test_rule_set_round_trips_through_its_row_form() -> None:
    rules = default_rules()
    assert RuleSet.from_dict(rules.to_dict()) == rules


def test_disabled_rules_are_kept_but_not_applied() -> None:
    rules = load_rules(
        'version = 3\n[[rules]]\nrule_id = "gap"\nkind = "min_gap"\nwindow = "90m"\n'
        "enabled = false\n"
    )
    assert rules.version == 3
    assert rules.of_kind(RuleKind.MIN_GAP) == ()
    assert rules.to_dict()["rules"] == [
        {"rule_id": "gap", "kind": "min_gap", "enabled": False, "window": "90m"}
    ]
    assert RuleSet.from_dict(rules.to_dict()) == rules


def test_region_prefix_chooses_the_time_zone() -> None:
    rules = load_rules('[timezones]\n"65" = "Asia/Urumqi"\n"6501" = "Asia/Kashgar"\n')
    assert rules.timezone_for("650100") == "Asia/Kashgar"
    assert rules.timezone_for("652900") == "Asia/Urumqi"
    assert rules.timezone_for("440100") == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("version = [", "invalid rule file"),
        ('[[rules]]\nrule_id = "q"\nkind = "quiet_hours"\n', "needs start and end"),
        (
            '[[rules]]\nrule_id = "a"\nkind = "claim"\n[[rules]]\nrule_id = "a"\nkind = "claim"\n',
            "duplicate rule_id",
        ),
        ('[[rules]]\nrule_id = "g"\nkind = "min_gap"\nwindow = "1w"\n', "bad window"),
        (
            '[[rules]]\nrule_id = "c"\nkind = "frequency_cap"\nlimit = 0\nwindow = "7d"\n',
            "limit of at least 1",
        ),
        ('[[rules]]\nrule_id = "c"\nkind = "frequency_cap"\nlimit = 2\n', "and a window"),
    ],
)
def test_invalid_rule_files_are_refused_with_a_reason(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        load_rules(text)


def test_windows_format_and_parse() -> None:
    for text in ("7d", "24h", "90m"):
        assert format_window(parse_window(text)) == text
    assert format_window(timedelta(hours=48)) == "2d"
