"""Before a latency measurement: flush what earlier rows left dirty and wait for the writeback.

Earlier rows of a run write gigabytes (the 10 GB copies of the stores, P8's fresh cache, the
pushes of P4/P7) that the kernel writes back in its own time. A commit's ``fsync`` that lands
in that writeback waits behind it, so a latency row measured right after such a row measures the
previous row's disk traffic. :func:`settle` calls ``sync`` (which returns once what was dirty
then is on disk) and then waits, bounded, until the machine's dirty and writeback pages are
small; the floor and ours both start from there. The figures before and after go in the row's
note. Other jobs on the machine still write meanwhile: that is the load the note states.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

__all__ = ["Settled", "dirty_mb", "settle"]

QUIET_MB = 64.0  # dirty + writeback below this counts as drained
MAX_WAIT_S = 60.0


@dataclass(frozen=True, slots=True)
class Settled:
    """Dirty + writeback megabytes found, left, the seconds the flush took, and the machine's
    1-minute load average then (other jobs included)."""

    before_mb: float
    after_mb: float
    seconds: float
    load: float

    def note(self) -> str:
        """One phrase for a row's note."""
        return (f"{self.before_mb:,.0f} MB dirty/writeback flushed in {self.seconds:.1f} s "
                f"({self.after_mb:,.0f} MB left), load {self.load:.1f}")  # fmt: skip


def dirty_mb() -> float:
    """``Dirty`` + ``Writeback`` of ``/proc/meminfo`` in MB (0 where it cannot be read)."""
    total = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("Dirty", "Writeback"):
                    total += int(value.split()[0])
    except OSError:
        return 0.0
    return total / 1024


def settle(quiet_mb: float = QUIET_MB, max_wait: float = MAX_WAIT_S) -> Settled:
    """``os.sync()``, then wait (at most ``max_wait`` s) until dirty + writeback < ``quiet_mb``."""
    start = time.perf_counter()
    before = dirty_mb()
    os.sync()
    left = dirty_mb()
    while left >= quiet_mb and time.perf_counter() - start < max_wait:
        time.sleep(0.2)  # waiting for the kernel's writeback, not timing anything
        left = dirty_mb()
    return Settled(before, left, time.perf_counter() - start, os.getloadavg()[0])
