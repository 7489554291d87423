"""Rules that defer: each says whether it holds at an instant and, if not, when it frees up.

Every check's ``reason_at(t)`` returns ``None`` when the rule is satisfied at ``t``; otherwise a
:class:`Reason` whose ``until`` is the earliest instant ``>= t`` at which that rule alone is
satisfied again (assuming no new history). The allowed set of each rule is a union of
left-closed intervals whose left ends lie among the candidates the check scans, so the scan is
exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from agentdesk.domain import Campaign, Contact
from agentdesk.policy.decision import Reason, ReasonCode
from agentdesk.policy.quiet import in_quiet_hours, quiet_ends
from agentdesk.policy.rules import Rule, format_window
from agentdesk.policy.timeline import cap_ok, first_ok, gap_ok, worst_window

__all__ = [
    "CapCheck",
    "CooldownCheck",
    "GapCheck",
    "PriorityCheck",
    "QuietCheck",
    "StartCheck",
    "TimedCheck",
]


class TimedCheck(Protocol):
    """A rule whose verdict depends on the instant."""

    def reason_at(self, t: datetime) -> Reason | None:
        """None when satisfied at ``t``; else the reason with its own ``until``."""


def _ids(contacts: Sequence[Contact]) -> list[str]:
    return [c.contact_id for c in contacts]


@dataclass(frozen=True, slots=True)
class CapCheck:
    """A rolling-window frequency cap (global, or for the rule's channels)."""

    rule: Rule
    contacts: tuple[Contact, ...]

    @property
    def code(self) -> ReasonCode:
        """``frequency_cap`` for all channels, ``channel_cap`` for a channel's own cap."""
        return ReasonCode.CHANNEL_CAP if self.rule.channels else ReasonCode.FREQUENCY_CAP

    def ok(self, t: datetime) -> bool:
        """Whether a contact at ``t`` keeps the cap."""
        times = [c.started_at for c in self.contacts]
        return cap_ok(times, t, self.rule.limit, self.rule.window)

    def reason_at(self, t: datetime) -> Reason | None:
        """See :class:`TimedCheck`."""
        if self.ok(t):
            return None
        window = self.rule.window
        times = [c.started_at for c in self.contacts]
        end, load = worst_window(times, t, window)
        counted = [c for c in self.contacts if end - window < c.started_at <= end]
        until = first_ok(t, (x + window for x in times), self.ok)
        detail = {
            "limit": self.rule.limit,
            "used": load - 1,
            "window": format_window(window),
            "channels": [c.value for c in self.rule.channels],
            "contact_ids": _ids(counted),
            "last_channel": counted[-1].channel.value,
            "last_agent_id": counted[-1].staff_id,
        }
        return Reason(code=self.code, rule_id=self.rule.rule_id, detail=detail, until=until)


@dataclass(frozen=True, slots=True)
class GapCheck:
    """A minimum gap between any two marketing contacts."""

    rule: Rule
    contacts: tuple[Contact, ...]

    def ok(self, t: datetime) -> bool:
        """Whether no marketing contact lies closer than the gap to ``t``."""
        return gap_ok([c.started_at for c in self.contacts], t, self.rule.window)

    def reason_at(self, t: datetime) -> Reason | None:
        """See :class:`TimedCheck`."""
        if self.ok(t):
            return None
        gap = self.rule.window
        near = [c for c in self.contacts if abs(c.started_at - t) < gap]
        until = first_ok(t, (c.started_at + gap for c in self.contacts), self.ok)
        last = near[-1]
        detail = {
            "gap": format_window(gap),
            "last_at": last.started_at.isoformat(),
            "last_channel": last.channel.value,
            "last_agent_id": last.staff_id,
            "contact_ids": _ids(near),
        }
        code = ReasonCode.MIN_GAP
        return Reason(code=code, rule_id=self.rule.rule_id, detail=detail, until=until)


@dataclass(frozen=True, slots=True)
class QuietCheck:
    """Quiet hours in the customer's local time."""

    rule: Rule
    start: time
    end: time
    zone: ZoneInfo

    def reason_at(self, t: datetime) -> Reason | None:
        """See :class:`TimedCheck`."""
        start, end = self.start, self.end
        if not in_quiet_hours(t, start, end, self.zone):
            return None
        detail = {
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
            "timezone": self.zone.key,
        }
        until = quiet_ends(t, start, end, self.zone)
        return Reason(
            code=ReasonCode.QUIET_HOURS, rule_id=self.rule.rule_id, detail=detail, until=until
        )


@dataclass(frozen=True, slots=True)
class CooldownCheck:
    """An offer is not pitched again for a while after the customer declined it."""

    rule: Rule
    offer_id: str
    declines: tuple[Contact, ...]

    def ok(self, t: datetime) -> bool:
        """Whether no decline of the offer lies in ``(t - window, t]``."""
        return not any(d.started_at <= t < d.started_at + self.rule.window for d in self.declines)

    def reason_at(self, t: datetime) -> Reason | None:
        """See :class:`TimedCheck`."""
        if self.ok(t):
            return None
        window = self.rule.window
        until = first_ok(t, (d.started_at + window for d in self.declines), self.ok)
        last = [d for d in self.declines if d.started_at <= t][-1]
        detail = {
            "offer_id": self.offer_id,
            "window": format_window(window),
            "declined_at": last.started_at.isoformat(),
            "contact_ids": [last.contact_id],
        }
        return Reason(
            code=ReasonCode.SUPPRESSED, rule_id=self.rule.rule_id, detail=detail, until=until
        )


@dataclass(frozen=True, slots=True)
class PriorityCheck:
    """A lower-priority campaign leaves the last free cap slot to a higher-priority one."""

    rule: Rule
    caps: tuple[CapCheck, ...]  # the global caps (every channel)
    competitors: tuple[Campaign, ...]

    def _last_slot(self, t: datetime) -> bool:
        for cap in self.caps:
            times = [c.started_at for c in cap.contacts]
            if not cap_ok(times, t, cap.rule.limit - 1, cap.rule.window):
                return True
        return False

    def _rivals(self, t: datetime) -> list[Campaign]:
        return [k for k in self.competitors if k.active_at(t)]

    def ok(self, t: datetime) -> bool:
        """Whether no active rival wants the slot a contact at ``t`` would take."""
        return not (self._rivals(t) and self._last_slot(t))

    def reason_at(self, t: datetime) -> Reason | None:
        """See :class:`TimedCheck`."""
        if self.ok(t):
            return None
        candidates = [k.valid_to for k in self.competitors]
        for cap in self.caps:
            candidates += [c.started_at + cap.rule.window for c in cap.contacts]
        rival = max(self._rivals(t), key=lambda k: (k.priority, k.campaign_id))
        detail = {
            "campaign_id": rival.campaign_id,
            "campaign_name": rival.name,
            "priority": rival.priority,
        }
        until = first_ok(t, candidates, self.ok)
        code = ReasonCode.PRIORITY
        return Reason(code=code, rule_id=self.rule.rule_id, detail=detail, until=until)


@dataclass(frozen=True, slots=True)
class StartCheck:
    """A campaign that has not started yet."""

    rule: Rule
    campaign: Campaign

    def reason_at(self, t: datetime) -> Reason | None:
        """See :class:`TimedCheck`."""
        if t >= self.campaign.valid_from:
            return None
        detail = {
            "campaign_id": self.campaign.campaign_id,
            "valid_from": self.campaign.valid_from.isoformat(),
        }
        return Reason(
            code=ReasonCode.OUTSIDE_VALIDITY,
            rule_id=self.rule.rule_id,
            detail=detail,
            until=self.campaign.valid_from,
        )
