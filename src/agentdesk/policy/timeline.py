"""Pure arithmetic over sorted contact times: rolling-window caps, gaps and first free instants.

A cap of ``limit`` per rolling ``window`` holds for a set of instants when no half-open window
``(e - window, e]`` holds more than ``limit`` of them. A contact at ``c`` therefore stops counting
at exactly ``c + window``. A gap of ``g`` holds at ``t`` when no other contact lies in
``(t - g, t + g)``, so it frees up at exactly ``c + g``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

__all__ = ["cap_ok", "count_in", "first_ok", "gap_ok", "window_load", "worst_window"]


def count_in(times: Sequence[datetime], start: datetime, end: datetime) -> int:
    """How many of the sorted ``times`` lie in ``(start, end]``."""
    return bisect_right(times, end) - bisect_right(times, start)


def window_load(times: Sequence[datetime], t: datetime, end: datetime, window: timedelta) -> int:
    """Contacts in the window ending at ``end``, counting a new contact at ``t`` when inside."""
    extra = 1 if end - window < t <= end else 0
    return count_in(times, end - window, end) + extra


def _window_ends(times: Sequence[datetime], t: datetime, window: timedelta) -> list[datetime]:
    """Right ends of every window that contains ``t`` and may be the worst one."""
    lo, hi = bisect_left(times, t), bisect_left(times, t + window)
    return [t, *times[lo:hi]]


def worst_window(times: Sequence[datetime], t: datetime, window: timedelta) -> tuple[datetime, int]:
    """The window containing ``t`` with the most contacts (including ``t``): (end, load)."""
    best_end, best = t, -1
    for end in _window_ends(times, t, window):
        load = window_load(times, t, end, window)
        if load > best:
            best_end, best = end, load
    return best_end, best


def cap_ok(times: Sequence[datetime], t: datetime, limit: int, window: timedelta) -> bool:
    """Whether one more contact at ``t`` keeps every window containing it within ``limit``."""
    return worst_window(times, t, window)[1] <= limit


def gap_ok(times: Sequence[datetime], t: datetime, gap: timedelta) -> bool:
    """Whether no contact lies strictly closer than ``gap`` to ``t``."""
    return bisect_right(times, t - gap) == bisect_left(times, t + gap)


def first_ok(
    t: datetime, candidates: Iterable[datetime], ok: Callable[[datetime], bool]
) -> datetime:
    """The earliest of ``t`` and the later ``candidates`` at which ``ok`` holds.

    The callers pass candidate sets that always contain such an instant (once every contact has
    aged out, a rule holds); should none hold, the latest candidate is returned.
    """
    ordered = sorted({t, *(c for c in candidates if c > t)})
    return next((moment for moment in ordered if ok(moment)), ordered[-1])
