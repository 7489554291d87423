"""A fixed-seed slice of the reliability suite, run by ``make test`` (the full run is
``make reliability``): every crash point once, a few random kills, one lost-response run and
one offline-conflict run, all against the real service and real client processes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.lab import Lab
from tests.reliability.scenarios import (
    POINTS,
    kill9_points,
    kill9_random,
    offline_conflicts,
    response_cut,
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("reliability"), customers=40, seed=7)
    yield lab
    lab.close()


def test_every_crash_point_loses_and_duplicates_nothing(lab: Lab) -> None:
    verdict = kill9_points(lab, len(POINTS), random.Random(11))
    assert verdict.ok, verdict.details()
    assert verdict.acked > 0
    assert lab.crashes >= 4  # the engine's crash points really fired
    assert verdict.notes["max_drain_cycles"] <= 2


def test_random_kills_lose_and_duplicate_nothing(lab: Lab) -> None:
    verdict = kill9_random(lab, 3, random.Random(12))
    assert verdict.ok, verdict.details()
    assert verdict.acked > 0


def test_lost_responses_are_answered_as_duplicates_on_retry(lab: Lab) -> None:
    verdict = response_cut(lab, 1, random.Random(13))
    assert verdict.ok, verdict.details()
    assert verdict.notes["duplicate_answers"] > 0


def test_offline_contacts_breaking_caps_are_all_flagged_and_none_rejected(lab: Lab) -> None:
    verdict = offline_conflicts(lab, 1, random.Random(14))
    assert verdict.ok, verdict.details()
    assert verdict.conflicts_expected == 1
    assert verdict.conflicts_flagged == 1
    assert verdict.notes["rejected_intents_visible"] == 1


def test_the_lab_writes_its_report(lab: Lab) -> None:
    assert (Path(lab.workdir) / "kill9_points.json").exists()
