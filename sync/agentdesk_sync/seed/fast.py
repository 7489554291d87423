"""Fast draws from ``random.Random``: one ``random()`` call per draw instead of several.

``Random.randint`` and ``Random.choices`` cost microseconds each; at millions of rows that is
the whole budget. These helpers give the same kind of draws from a single ``rng.random()``.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from typing import Generic, TypeVar

__all__ = ["Weighted", "pick", "randint", "uniform"]

T = TypeVar("T")


def randint(rng: random.Random, low: int, high: int) -> int:
    """An integer in ``[low, high]``."""
    return low + int(rng.random() * (high - low + 1))


def uniform(rng: random.Random, low: float, high: float) -> float:
    """A float in ``[low, high)``."""
    return low + (high - low) * rng.random()


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """One element of ``items``, uniformly."""
    return items[int(rng.random() * len(items))]


class Weighted(Generic[T]):
    """A fixed weighted choice, drawn with one ``random()`` and a bisection."""

    __slots__ = ("_cumulative", "_items", "_total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        """Build from ``(item, weight)`` pairs."""
        self._items = [item for item, _ in pairs]
        cumulative: list[float] = []
        total = 0.0
        for _, weight in pairs:
            total += weight
            cumulative.append(total)
        self._cumulative = cumulative
        self._total = total

    def pick(self, rng: random.Random) -> T:
        """One item, with probability proportional to its weight."""
        return self._items[bisect_right(self._cumulative, rng.random() * self._total)]
