"""One line an agent understands for each reason code (translatable with gettext).

Policy code returns reason codes only; the UI calls :func:`explain` to show them, e.g.
"2 marketing contacts in the last 7 days (limit 2); free again on 28 Nov 10:14".
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from agentdesk.i18n import N_, _, format_datetime, ngettext
from agentdesk.policy.decision import Decision, Reason, ReasonCode, Violation
from agentdesk.policy.rules import parse_window

__all__ = ["channel_label", "explain", "explain_decision", "explain_violation", "format_span"]

_CHANNELS = {
    "outbound_call": N_("outbound call"),
    "inbound_call": N_("inbound call"),
    "store": N_("store"),
    "field_visit": N_("field visit"),
    "phone": N_("phone"),
    "sms": N_("SMS"),
    "mms": N_("MMS"),
    "email": N_("e-mail"),
}

_FIXED = {
    ReasonCode.DO_NOT_CONTACT: N_("The customer asked not to be contacted for marketing"),
    ReasonCode.CONTROL_GROUP: N_("Control group of this campaign: never offered"),
    ReasonCode.STALE_FENCE: N_("Made under a claim that had already been taken over"),
}


def channel_label(channel: str) -> str:
    """The translated name of a channel (its code when it has no label)."""
    label = _CHANNELS.get(channel)
    return _(label) if label else channel


def format_span(window: str) -> str:
    """``"7d"`` → "7 days", ``"24h"`` → "24 hours", ``"30m"`` → "30 minutes"."""
    span = parse_window(window)
    if span % timedelta(days=1) == timedelta(0) and span.days > 1:
        days = span.days
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if span % timedelta(hours=1) == timedelta(0):
        hours = int(span.total_seconds()) // 3600
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    minutes = int(span.total_seconds()) // 60
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def _when(moment: datetime, tz: tzinfo | None) -> str:
    return format_datetime(moment, tz=tz, fmt=_("d MMM HH:mm"))


def _counted(code: str, d: dict[str, Any]) -> str:
    used, limit, window = d.get("used", 0), d.get("limit", 0), format_span(d.get("window", "7d"))
    values = {"used": used, "limit": limit, "window": window}
    if code == ReasonCode.CHANNEL_CAP:
        values["channel"] = channel_label((d.get("channels") or ["?"])[0])
        text = ngettext(
            "%(used)d %(channel)s contact in the last %(window)s (limit %(limit)d)",
            "%(used)d %(channel)s contacts in the last %(window)s (limit %(limit)d)",
            used,
        )
    elif code == ReasonCode.FREQUENCY_CAP:
        text = ngettext(
            "%(used)d marketing contact in the last %(window)s (limit %(limit)d)",
            "%(used)d marketing contacts in the last %(window)s (limit %(limit)d)",
            used,
        )
    elif code == ReasonCode.CAMPAIGN_ATTEMPTS:
        text = _("%(used)d attempts already made for this campaign (limit %(limit)d)")
    elif code == ReasonCode.CAMPAIGN_REACHED:
        text = _("Already reached for this campaign (limit %(limit)d)")
    else:
        text = _("Declined %(used)d times in %(window)s: this campaign is over for the customer")
    return text % values


def _body(reason: Reason, tz: tzinfo | None) -> str:
    code, d = reason.code, reason.detail
    if code in _FIXED:
        return _(_FIXED[ReasonCode(code)])
    channel = channel_label(d.get("channel", d.get("last_channel", "")))
    if code == ReasonCode.SENSITIVE_CHANNEL:
        return _("Sensitive number: no marketing by %(channel)s") % {"channel": channel}
    if code == ReasonCode.CONSENT:
        return _("The customer opted out of marketing by %(channel)s") % {"channel": channel}
    if code == ReasonCode.MIN_GAP:
        last = datetime.fromisoformat(d["last_at"])
        values = {"when": _when(last, tz), "channel": channel, "gap": format_span(d["gap"])}
        return _("Last marketing contact %(when)s by %(channel)s; keep %(gap)s apart") % values
    if code == ReasonCode.QUIET_HOURS:
        values = {"start": d["start"], "end": d["end"]}
        return _("Quiet hours %(start)s–%(end)s in the customer's local time") % values
    if code == ReasonCode.SUPPRESSED:
        declined = _when(datetime.fromisoformat(d["declined_at"]), tz)
        values = {"when": declined, "window": format_span(d["window"])}
        return _("Offer declined on %(when)s: not offered again for %(window)s") % values
    if code == ReasonCode.CLAIMED_BY_OTHER:
        values = {"holder": d.get("holder_name") or d["holder_id"], "channel": channel}
        return _("%(holder)s is working with this customer (%(channel)s)") % values
    if code == ReasonCode.PRIORITY:
        values = {"campaign": d.get("campaign_name") or d["campaign_id"]}
        return _("The last free contact slot goes to the higher-priority campaign %(campaign)s") % (
            values
        )
    if code == ReasonCode.OUTSIDE_VALIDITY:
        if "valid_from" in d:
            return _("The campaign has not started yet")
        return _("The campaign is not running")
    return _counted(code, d)


def explain(reason: Reason, *, tz: tzinfo | None = None) -> str:
    """One translated line for a reason, with when it lifts (times shown in ``tz``)."""
    body = _body(reason, tz)
    if reason.until is None:
        return body
    if reason.code == ReasonCode.CLAIMED_BY_OTHER:
        return _("%(text)s until %(when)s") % {"text": body, "when": _when(reason.until, tz)}
    return _("%(text)s; free again on %(when)s") % {"text": body, "when": _when(reason.until, tz)}


def explain_decision(decision: Decision, *, tz: tzinfo | None = None) -> str:
    """One line for a whole decision: allowed, deferred until when, or blocked and why."""
    if decision.allowed:
        return _("Contact allowed")
    first = explain(decision.reasons[0], tz=tz)
    if decision.deferred_until is not None:
        when = _when(decision.deferred_until, tz)
        return _("Not now: %(why)s. Possible from %(when)s") % {"why": first, "when": when}
    if decision.dropped:
        return _("Not for this customer: %(why)s") % {"why": first}
    return _("Blocked for now: %(why)s") % {"why": first}


def explain_violation(violation: Violation, *, tz: tzinfo | None = None) -> str:
    """One line for a push-time conflict (a contact that broke a rule)."""
    if violation.type == "frequency_cap":
        values = {"count": violation.count_after, "limit": violation.limit}
        return _("Over the contact limit: %(count)d contacts where %(limit)s are allowed") % values
    if violation.type == "min_gap":
        return _("Too close to another marketing contact (keep %(gap)s apart)") % {
            "gap": format_span(violation.limit)
        }
    if violation.type == "claimed_by_other" and violation.claim_until is not None:
        values = {"holder": violation.other_agent_id, "when": _when(violation.claim_until, tz)}
        return _("Made while %(holder)s held the customer (until %(when)s)") % values
    texts = {
        "quiet_hours": N_("Made during quiet hours"),
        "do_not_contact": N_("Made although the customer asked not to be contacted"),
        "sensitive_channel": N_("Made on a channel the customer must not be contacted on"),
        "suppressed": N_("Offered again too soon after the customer declined it"),
        "stale_fence": N_("Made under a claim that had already been taken over"),
        "claimed_by_other": N_("Made while another user held the customer"),
    }
    return _(texts.get(violation.type, violation.type))
