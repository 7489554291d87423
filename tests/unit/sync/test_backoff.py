"""Backoff: full jitter, exponential ceiling, capped at 5 minutes, reproducible with a seed."""

from __future__ import annotations

import random

from agentdesk.sync.backoff import MAX_DELAY_S, Backoff, full_jitter


def test_delays_stay_under_an_exponential_ceiling_and_the_cap() -> None:
    rng = random.Random(1)
    for attempt in range(1, 40):
        ceiling = min(MAX_DELAY_S, 2.0 ** (attempt - 1))
        for _ in range(50):
            assert 0.0 <= full_jitter(attempt, rng) <= ceiling


def test_jitter_spreads_clients_apart() -> None:
    rng = random.Random(2)
    delays = {round(full_jitter(10, rng), 3) for _ in range(100)}
    assert len(delays) > 90


def test_same_seed_same_delays() -> None:
    a = Backoff(rng=random.Random(7))
    b = Backoff(rng=random.Random(7))
    assert [a.failed() for _ in range(10)] == [b.failed() for _ in range(10)]


def test_success_starts_over_and_server_hint_is_a_floor() -> None:
    backoff = Backoff(rng=random.Random(3))
    for _ in range(30):
        backoff.failed()
    backoff.succeeded()
    assert backoff.failed() <= 1.0
    assert backoff.failed(retry_after=42.0) >= 42.0
    assert backoff.failed(retry_after=10_000.0) == MAX_DELAY_S
