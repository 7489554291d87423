"""Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter").

A pure function plus a tiny stateful helper, so the scheduler can compute *when* to try again
without sleeping in a decorator (``tenacity`` retries by blocking the calling thread, which does
not fit a scheduler that must also wake up on local writes and reconnects).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["MAX_DELAY_S", "Backoff", "full_jitter"]

MAX_DELAY_S = 300.0


def full_jitter(
    attempt: int, rng: random.Random, *, base: float = 1.0, cap: float = MAX_DELAY_S
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = first retry).

    Args:
        attempt: how many consecutive failures there have been (≥ 1).
        rng: the random source (seed it for reproducible tests).
        base: the ceiling of the first retry.
        cap: the ceiling of every retry (5 min by default).

    Returns:
        A delay drawn uniformly from ``[0, min(cap, base * 2 ** (attempt - 1))]``.
    """
    exponent = min(max(attempt, 1) - 1, 62)
    return rng.uniform(0.0, min(cap, base * 2.0**exponent))


@dataclass
class Backoff:
    """Counts consecutive failures and draws the next delay.

    Attributes:
        base: ceiling of the first retry in seconds.
        cap: ceiling of any retry in seconds.
        rng: random source; inject a seeded ``random.Random`` in tests.
        failures: consecutive failures so far.
    """

    base: float = 1.0
    cap: float = MAX_DELAY_S
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def failed(self, retry_after: float | None = None) -> float:
        """Record a failure; return the delay before the next try.

        Args:
            retry_after: a delay the server asked for; used as a floor, still capped.
        """
        self.failures += 1
        delay = full_jitter(self.failures, self.rng, base=self.base, cap=self.cap)
        if retry_after is not None:
            delay = min(self.cap, max(delay, retry_after))
        return delay

    def succeeded(self) -> None:
        """Forget the failures: the next failure starts from ``base`` again."""
        self.failures = 0
