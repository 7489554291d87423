"""Quiet hours in the customer's local time (``zoneinfo``; all of China is Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["in_quiet_hours", "local_zone", "quiet_ends"]


@lru_cache(maxsize=64)
def local_zone(name: str) -> ZoneInfo:
    """The (cached) zone of an IANA name."""
    return ZoneInfo(name)


def in_quiet_hours(at: datetime, start: time, end: time, zone: ZoneInfo) -> bool:
    """Whether ``at`` falls in ``[start, end)`` local time (the window may wrap midnight)."""
    local = at.astimezone(zone).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def quiet_ends(at: datetime, start: time, end: time, zone: ZoneInfo) -> datetime:
    """The next instant after ``at`` when the quiet window opens again (``end`` local time)."""
    local = at.astimezone(zone)
    day = local.date()
    if start > end and local.time() >= start:
        day += timedelta(days=1)
    opening = datetime.combine(day, end, tzinfo=zone)
    return opening.astimezone(at.tzinfo)
