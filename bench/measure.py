"""Timing helpers: repeated measurement with warm-up, percentiles, sustained rates.

Every figure of the benchmark is a :class:`Stat`: a sample of durations (seconds) with its median,
p95 and p99. Nothing here knows about agentdesk.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["Stat", "percentile", "repeat", "stat_of", "timed"]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values`` by linear interpolation.

    Args:
        values: A non-empty sample.
        q: The percentile, 0 to 100.

    Returns:
        The interpolated percentile.
    """
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True, slots=True)
class Stat:
    """Summary of a sample of durations in seconds."""

    n: int
    median: float
    p95: float
    p99: float
    mean: float
    total: float


def stat_of(samples: Iterable[float]) -> Stat:
    """Summarise a sample of durations.

    Args:
        samples: Durations in seconds (at least one).

    Returns:
        Median, p95, p99, mean and total of the sample.
    """
    values = list(samples)
    if not values:
        msg = "empty sample"
        raise ValueError(msg)
    return Stat(
        n=len(values),
        median=statistics.median(values),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
        mean=statistics.fmean(values),
        total=sum(values),
    )


def timed(fn: Callable[[], object]) -> float:
    """Run ``fn`` once and return its wall time in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def repeat(
    fn: Callable[[int], object],
    n: int,
    *,
    warmup: int = 10,
    tick: Callable[[], None] | None = None,
) -> Stat:
    """Time ``fn(i)`` for ``i`` in ``range(n)`` after ``warmup`` untimed calls.

    Args:
        fn: The operation; it gets the iteration number so that it can vary its input.
        n: Timed repetitions.
        warmup: Untimed calls first (caches, JIT-free Python warm-up, SQLite page cache).
        tick: Called after every timed repetition (progress bar).

    Returns:
        The sample's summary.
    """
    for i in range(warmup):
        fn(n + i)
    samples: list[float] = []
    clock = time.perf_counter
    for i in range(n):
        start = clock()
        fn(i)
        samples.append(clock() - start)
        if tick is not None:
            tick()
    return stat_of(samples)
