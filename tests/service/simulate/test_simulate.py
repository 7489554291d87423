"""A small simulated day over the real service: online agents never break policy, and every
conflict an offline agent causes is flagged by the server."""

from __future__ import annotations

import json

import pytest

from agentdesk_sync.simulate import main


@pytest.mark.slow
def test_small_day_is_clean_online_and_flags_every_offline_conflict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--agents", "6", "--customers", "300", "--hours", "2", "--offline-share", "0.5",
            "--seed", "3", "--json"]  # fmt: skip
    status = main(argv)
    figures = json.loads(capsys.readouterr().out)
    assert status == 0
    assert figures["contacts"] > 20
    assert figures["violations_online"] == 0
    assert figures["offline_conflicts"] == figures["offline_conflicts_flagged"]
    assert figures["flag_mismatches"] == 0
    assert figures["blocked_with_reason"] > 0
    assert figures["deferred_then_contacted"] > 0  # the first hour is in quiet hours
    assert figures["offline_agents"] == 3
