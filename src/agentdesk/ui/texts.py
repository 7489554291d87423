"""User-facing labels for codes, and locale-aware date/number formatting.

Every function is called at paint time, so a language switch re-renders everything.
Reason explanations come from :mod:`agentdesk.policy.texts` and :mod:`agentdesk.recommend.texts`;
this module adds a readable fallback for codes they do not know.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QLocale, QTimeZone

from agentdesk.domain import Channel, ResultCode, Segment
from agentdesk.i18n import _
from agentdesk.policy import Reason, Violation
from agentdesk.policy import texts as policy_texts
from agentdesk.recommend.texts import explain_factor, explain_suppression
from agentdesk.services.dto import ReasonLine

__all__ = [
    "channel_label",
    "conflict_detail",
    "conflict_label",
    "explain",
    "fmt_date",
    "fmt_datetime",
    "fmt_money",
    "fmt_time",
    "fmt_when",
    "holding_kind_label",
    "result_label",
    "risk_label",
    "segment_label",
    "verdict_label",
    "vip_label",
]


def result_label(code: ResultCode | str) -> str:
    """The label of a contact result code."""
    labels = {
        ResultCode.REACHED_ACCEPTED: _("Reached: accepted"),
        ResultCode.REACHED_CALLBACK: _("Reached: call back"),
        ResultCode.REACHED_NO_OFFER: _("Reached: service only"),
        ResultCode.REACHED_DECLINED: _("Reached: declined"),
        ResultCode.NOT_REACHED_NO_ANSWER: _("No answer"),
        ResultCode.NOT_REACHED_BUSY: _("Busy"),
        ResultCode.NOT_REACHED_OFF: _("Phone off / no coverage"),
        ResultCode.WRONG_NUMBER: _("Wrong number"),
        ResultCode.DO_NOT_CONTACT_REQUESTED: _("Asked not to be contacted"),
        ResultCode.CHURN_INTENT: _("Says they will leave"),
    }
    return labels.get(ResultCode(code), str(code))


def channel_label(channel: Channel | str | None) -> str:
    """The label of a channel."""
    if channel is None:
        return ""
    labels = {
        Channel.OUTBOUND_CALL: _("Outbound call"),
        Channel.INBOUND_CALL: _("Inbound call"),
        Channel.STORE: _("Store"),
        Channel.FIELD_VISIT: _("Field visit"),
        Channel.PHONE: _("Account manager call"),
        Channel.SMS: _("SMS"),
        Channel.ONLINE_STORE: _("Online store"),
    }
    try:
        return labels.get(Channel(channel), str(channel))
    except ValueError:
        return str(channel)


def segment_label(segment: Segment | str) -> str:
    """The short segment label, e.g. ``SS6 High value, at risk``."""
    names = {
        "SS1": _("High value, business"),
        "SS2": _("High value, trendy"),
        "SS3": _("Mid value, practical"),
        "SS4": _("Local, basic"),
        "SS5": _("Low value, dormant"),
        "SS6": _("High value, at risk"),
        "SS7": _("High value, outflow"),
        "SS8": _("Local, well-off"),
        "SS9": _("Traditional, frugal"),
    }
    return f"{segment} {names.get(str(segment), '')}".strip()


def risk_label(level: str) -> str:
    """Churn risk level."""
    return {"low": _("low"), "medium": _("medium"), "high": _("high")}.get(level, level)


def vip_label(level: str) -> str:
    """客户等级."""
    return {
        "diamond": _("Diamond"),
        "platinum": _("Platinum"),
        "gold": _("Gold"),
        "silver": _("Silver"),
    }.get(level, level)


def holding_kind_label(kind: str) -> str:
    """What kind of product a holding is."""
    return {
        "plan": _("Plan"),
        "data_pack": _("Data pack"),
        "broadband": _("Broadband"),
        "handset": _("Handset"),
        "value_added": _("Value-added"),
        "contract": _("Contract"),
    }.get(kind, kind)


def verdict_label(outcome: str) -> str:
    """One word for the policy outcome."""
    return {
        "allowed": _("Allowed"),
        "deferred": _("Deferred"),
        "blocked": _("Blocked"),
    }.get(outcome, outcome)


def explain(reason: ReasonLine) -> str:
    """One line an agent understands for ``reason`` (in the current language)."""
    policy_reason = Reason(
        code=reason.code, rule_id=reason.rule_id, detail=dict(reason.detail), until=reason.until
    )
    try:
        if reason.kind == "factor":
            text = explain_factor(policy_reason)
        elif reason.kind == "suppression":
            text = explain_suppression(policy_reason)
        else:
            text = policy_texts.explain(policy_reason)
    except (KeyError, ValueError, TypeError):
        text = ""
    return text if text and text != reason.code else _fallback(reason)


def _fallback(reason: ReasonLine) -> str:
    until = f" ({_('until')} {fmt_datetime(reason.until)})" if reason.until else ""
    labels: dict[str, str] = {
        "claimed_by_other": _("Someone else is working this customer"),
        "do_not_contact": _("Customer asked not to be contacted"),
        "sensitive_channel": _("Sensitive number on this channel"),
        "quiet_hours": _("Quiet hours"),
        "frequency_cap": _("Contact limit reached"),
        "min_gap": _("Too soon after the last contact"),
        "control_group": _("Control group: never offered"),
        "suppressed": _("Declined recently (cool-down)"),
    }
    return labels.get(reason.code, reason.code.replace("_", " ")) + until


def conflict_label(code: str) -> str:
    """A short name for a conflict or refusal code (chart axis, list column)."""
    labels = {
        "frequency_cap": _("Contact limit"),
        "min_gap": _("Too close together"),
        "claimed_by_other": _("Claimed by another user"),
        "stale_fence": _("Expired claim"),
        "quiet_hours": _("Quiet hours"),
        "do_not_contact": _("Do not contact"),
        "sensitive_channel": _("Sensitive channel"),
        "suppressed": _("Offer in cool-down"),
        "out_of_scope": _("Outside your scope"),
        "invalid_payload": _("Invalid data"),
    }
    return labels.get(code, _("Other ({code})").format(code=code))


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def conflict_detail(code: str, detail: dict[str, Any]) -> str:
    """A sentence for a conflict: the broken rule, who else contacted, on which channel, when."""
    found = detail.get("other")
    other: dict[str, Any] = found if isinstance(found, dict) else {}
    count = detail.get("count_after")
    violation = Violation(
        type=code,
        rule_id=str(detail.get("rule_id") or ""),
        limit=str(detail.get("limit") or ""),
        count_after=int(count) if isinstance(count, int) else 0,
        other_agent_id=other.get("agent_id"),
        claim_until=_parse(other.get("claim_until")),
    )
    try:
        rule = policy_texts.explain_violation(violation)
    except (KeyError, ValueError, TypeError):
        rule = conflict_label(code)
    sentence = rule
    agent, channel = other.get("agent_id"), other.get("channel")
    if agent or channel:
        sentence += _(". Other contact: {agent} by {channel}").format(
            agent=agent or _("another user"), channel=channel_label(channel) or _("unknown")
        )
        when = _parse(detail.get("other_at"))
        if when is not None:
            sentence += " " + _("on {when}").format(when=fmt_datetime(when))
    if detail.get("rule_id"):
        sentence += " " + _("(rule {rule})").format(rule=detail["rule_id"])
    return sentence


def _locale() -> QLocale:
    return QLocale()


def _qdt(value: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(value.timestamp()), QTimeZone.systemTimeZone())


def fmt_datetime(value: datetime | None) -> str:
    """Short local date and time in the chosen locale."""
    if value is None:
        return ""
    return _locale().toString(_qdt(value), QLocale.FormatType.ShortFormat)


def fmt_time(value: datetime | None) -> str:
    """Local ``HH:MM``."""
    if value is None:
        return ""
    return _qdt(value).toString("HH:mm")


def fmt_when(value: datetime | None, now: datetime | None = None) -> str:
    """Local ``HH:MM`` for a moment of today, "yesterday HH:MM" / "tomorrow HH:MM" next to it,
    else the short date with the time.

    For "synced at", "last sync" and claim ends: a bare ``18:51`` from yesterday reads as a
    time later today (or as fresh data), and a 12-hour claim taken in the evening ends
    tomorrow, so another day is always named; the neighbouring days by word, which also fits
    the narrow claim column of the visit plan where a full date was cut off.
    """
    if value is None:
        return ""
    day = value.astimezone().date()
    today = (now or datetime.now()).astimezone().date()
    if day == today:
        return fmt_time(value)
    if day == today + timedelta(days=1):
        return _("tomorrow {time}").format(time=fmt_time(value))
    if day == today - timedelta(days=1):
        return _("yesterday {time}").format(time=fmt_time(value))
    return f"{fmt_date(day)} {fmt_time(value)}"


def fmt_date(value: date | None) -> str:
    """Short date in the chosen locale."""
    if value is None:
        return ""
    qdate = QDate(value.year, value.month, value.day)
    return _locale().toString(qdate, QLocale.FormatType.ShortFormat)


def fmt_money(value: float, **_kw: Any) -> str:
    """A yuan amount in the chosen locale."""
    return "¥" + _locale().toString(float(value), "f", 2)
