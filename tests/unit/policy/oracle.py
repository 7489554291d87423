"""A brute-force oracle of the cap, gap, quiet-hours and claim rules of the default rule set.

Written independently of :mod:`agentdesk.policy` (no bisect, no candidate instants): it checks
the rules straight from their definitions, for one proposed marketing contact at ``t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agentdesk.domain import Channel, Claim, Contact

WEEK = timedelta(days=7)
GAP = timedelta(hours=24)
QUIET_CHANNELS = {"outbound_call", "phone", "field_visit", "sms", "mms", "ivr", "ussd"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFERRING = {"frequency_cap", "channel_cap", "min_gap", "quiet_hours"}


def _over(times: list[datetime], t: datetime, limit: int) -> bool:
    """Some 7-day window (x - 7d, x] that contains ``t`` holds more than ``limit`` contacts."""
    every = [*times, t]
    for x in every:
        if x - WEEK < t <= x:
            inside = [y for y in every if x - WEEK < y <= x]
            if len(inside) > limit:
                return True
    return False


def forbidden(
    customer_id: str,
    channel: Channel,
    history: Sequence[Contact],
    claims: Sequence[Claim],
    user: str | None,
    t: datetime,
) -> set[str]:
    """The reason codes that forbid a marketing contact on ``channel`` at ``t``."""
    marketing = [c for c in history if c.customer_id == customer_id and c.is_marketing]
    found = set()
    if _over([c.started_at for c in marketing], t, 2):
        found.add("frequency_cap")
    calls = [c.started_at for c in marketing if c.channel == "outbound_call"]
    if channel == "outbound_call" and _over(calls, t, 1):
        found.add("channel_cap")
    if any(abs(c.started_at - t) < GAP for c in marketing):
        found.add("min_gap")
    hour = t.astimezone(SHANGHAI).hour
    if channel.value in QUIET_CHANNELS and (hour >= 21 or hour < 9):
        found.add("quiet_hours")
    for lease in claims:
        began = lease.acquired_at is None or lease.acquired_at <= t
        mine = lease.customer_id == customer_id and lease.holder_id != user
        if mine and began and t < lease.lease_until:
            found.add("claimed_by_other")
    return found
