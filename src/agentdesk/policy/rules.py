"""Contact rules as data: a versioned :class:`RuleSet` loaded from TOML or from a dict.

The central store keeps rule sets as rows (``rule_set`` entity, row = :meth:`RuleSet.to_dict`)
and clients pull them, so the same rules run on the client (pre-check) and the server.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum
from typing import Any

from agentdesk.domain import Channel

__all__ = ["Rule", "RuleKind", "RuleSet", "format_window", "load_rules", "parse_window"]

_WINDOW = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


class RuleKind(StrEnum):
    """What a rule checks."""

    DO_NOT_CONTACT = "do_not_contact"
    SENSITIVE_CHANNEL = "sensitive_channel"
    CONSENT = "consent"
    CLAIM = "claim"
    CONTROL_GROUP = "control_group"
    VALIDITY = "validity"
    FREQUENCY_CAP = "frequency_cap"
    CAMPAIGN_ATTEMPTS = "campaign_attempts"
    CAMPAIGN_REACHED = "campaign_reached"
    MIN_GAP = "min_gap"
    QUIET_HOURS = "quiet_hours"
    COOLDOWN = "cooldown"
    DECLINE_LIMIT = "decline_limit"
    PRIORITY = "priority"


def parse_window(text: str) -> timedelta:
    """Parse ``"7d"``, ``"24h"`` or ``"30m"`` into a timedelta.

    Raises:
        ValueError: for anything else.
    """
    match = _WINDOW.match(text)
    if match is None:
        raise ValueError(f"bad window {text!r}: use <n>d, <n>h or <n>m")
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_window(window: timedelta) -> str:
    """The inverse of :func:`parse_window` (``7d``, ``24h``, ``90m``; one day is ``24h``)."""
    minutes = int(window.total_seconds()) // 60
    if minutes % 1440 == 0 and minutes > 1440:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _parse_time(text: str) -> time:
    hour, _, minute = text.partition(":")
    return time(int(hour), int(minute or 0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule. ``channels`` empty means every channel."""

    rule_id: str
    kind: RuleKind
    enabled: bool = True
    channels: tuple[Channel, ...] = ()
    limit: int = 0
    window: timedelta = timedelta(0)
    start: time | None = None
    end: time | None = None

    def applies_to(self, channel: Channel) -> bool:
        """Whether the rule covers ``channel``."""
        return not self.channels or channel in self.channels

    def to_dict(self) -> dict[str, Any]:
        """The row form (TOML keys)."""
        row: dict[str, Any] = {"rule_id": self.rule_id, "kind": self.kind.value}
        if not self.enabled:
            row["enabled"] = False
        if self.channels:
            row["channels"] = [c.value for c in self.channels]
        if self.limit:
            row["limit"] = self.limit
        if self.window:
            row["window"] = format_window(self.window)
        if self.start is not None and self.end is not None:
            row["start"] = self.start.strftime("%H:%M")
            row["end"] = self.end.strftime("%H:%M")
        return row

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Rule:
        """Build a rule from its row form."""
        start, end = row.get("start"), row.get("end")
        if row["kind"] == RuleKind.QUIET_HOURS and not (start and end):
            raise ValueError(f"quiet-hours rule {row['rule_id']!r} needs start and end")
        if row["kind"] == RuleKind.FREQUENCY_CAP and not (
            int(row.get("limit", 0)) >= 1 and row.get("window")
        ):
            # a cap of 0 is no cap but a ban: say so with do_not_contact or sensitive channels
            msg = f"frequency cap {row['rule_id']!r} needs a limit of at least 1 and a window"
            raise ValueError(msg)
        return cls(
            rule_id=str(row["rule_id"]),
            kind=RuleKind(row["kind"]),
            enabled=bool(row.get("enabled", True)),
            channels=tuple(Channel(c) for c in row.get("channels", ())),
            limit=int(row.get("limit", 0)),
            window=parse_window(row["window"]) if row.get("window") else timedelta(0),
            start=_parse_time(start) if start else None,
            end=_parse_time(end) if end else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    """A versioned set of rules plus the customers' time zones."""

    version: int
    rules: tuple[Rule, ...]
    timezone: str = "Asia/Shanghai"
    timezones: dict[str, str] = field(default_factory=dict)  # region-code prefix -> zone
    # Derived once at construction (never compared, printed or passed in): the enabled rules of
    # each kind, so the many ``of_kind`` calls of one evaluation are dictionary look-ups.
    _by_kind: dict[RuleKind, tuple[Rule, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        by_kind: dict[RuleKind, list[Rule]] = {}
        for rule in self.rules:
            if rule.enabled:
                by_kind.setdefault(rule.kind, []).append(rule)
        self._by_kind.update({kind: tuple(found) for kind, found in by_kind.items()})

    def of_kind(self, kind: RuleKind) -> tuple[Rule, ...]:
        """The enabled rules of one kind, in file order."""
        return self._by_kind.get(kind, ())

    def timezone_for(self, region_code: str) -> str:
        """The IANA zone of a region (longest matching prefix, else the default)."""
        best = ""
        for prefix in self.timezones:
            if region_code.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.timezones[best] if best else self.timezone

    def to_dict(self) -> dict[str, Any]:
        """The row form kept by the central store and pulled by clients."""
        return {
            "version": self.version,
            "timezone": self.timezone,
            "timezones": dict(self.timezones),
            "rules": [r.to_dict() for r in self.rules],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleSet:
        """Build a rule set from :meth:`to_dict` output or parsed TOML."""
        rules = tuple(Rule.from_dict(r) for r in data.get("rules", ()))
        ids = [r.rule_id for r in rules]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate rule_id in rule set")
        return cls(
            version=int(data.get("version", 1)),
            rules=rules,
            timezone=str(data.get("timezone", "Asia/Shanghai")),
            timezones={str(k): str(v) for k, v in data.get("timezones", {}).items()},
        )


def load_rules(toml_text: str) -> RuleSet:
    """Parse a rule set from TOML text.

    Raises:
        ValueError: on invalid TOML or an invalid rule.
    """
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid rule file: {exc}") from exc
    return RuleSet.from_dict(data)
