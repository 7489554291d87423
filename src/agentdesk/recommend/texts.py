"""One translated line per recommendation factor or suppression reason.

Examples: "bundle expires in 21 days", "data usage 3.0× plan for 3 months", "churn risk high",
"segment SS2 high value trendy", "prefers this channel".
"""

from __future__ import annotations

from datetime import tzinfo

from agentdesk.i18n import N_, _, ngettext
from agentdesk.policy import Reason
from agentdesk.policy.texts import channel_label, explain

__all__ = ["explain_factor", "explain_suppression"]

_SEGMENTS = {
    "high_value_business": N_("high value business"),
    "high_value_trendy": N_("high value trendy"),
    "mid_value_practical": N_("mid value practical"),
    "local_basic": N_("local basic needs"),
    "low_value_dormant": N_("low value dormant"),
    "high_value_at_risk": N_("high value at risk"),
    "high_value_outflow": N_("high value outflow"),
    "local_well_off": N_("local well-off"),
    "traditional_frugal": N_("traditional frugal"),
}
_LEVELS = {"high": N_("high"), "medium": N_("medium"), "low": N_("low")}


def _segment(detail: dict[str, object]) -> str:
    name = str(detail.get("name", ""))
    label = _(_SEGMENTS[name]) if name in _SEGMENTS else name
    return f"{detail.get('segment', '')} {label}".strip()


def explain_factor(reason: Reason) -> str:
    """One line for a ranking factor (codes of :mod:`agentdesk.recommend.factors`)."""
    d = reason.detail
    code = reason.code
    if code == "bundle_expiry":
        days = int(d["days"])
        return ngettext("bundle expires in %(n)d day", "bundle expires in %(n)d days", days) % {
            "n": days
        }
    if code == "data_over_plan":
        months = int(d["months"])
        text = ngettext(
            "data usage %(ratio).1f× plan for %(n)d month",
            "data usage %(ratio).1f× plan for %(n)d months",
            months,
        )
        return text % {"ratio": d["ratio"], "n": months}
    if code == "churn_risk":
        level = str(d["level"])
        return _("churn risk %(level)s") % {"level": _(_LEVELS.get(level, level))}
    if code == "segment_match":
        return _("offer made for segment %(segment)s") % {"segment": _segment(d)}
    if code == "high_value":
        return _("high-value customer (%(segment)s)") % {"segment": _segment(d)}
    if code == "on_target_list":
        return _("on the campaign's target list (wave %(wave)s)") % {"wave": d["wave"]}
    if code == "campaign_priority":
        return _("campaign priority %(priority)s") % {"priority": d["priority"]}
    if code == "prefers_channel":
        return _("prefers this channel")
    if code == "assigned_channel":
        return _("the marketing order assigns %(channel)s") % {
            "channel": channel_label(str(d["channel"]))
        }
    return code


def explain_suppression(reason: Reason, *, tz: tzinfo | None = None) -> str:
    """One line for why an offer is held back (offer rules here, policy rules via policy)."""
    d = reason.detail
    texts = {
        "segment_mismatch": N_("not for the customer's segment"),
        "already_owns": N_("the customer already has this product"),
        "already_accepted": N_("the customer already accepted this offer"),
        "requires_product": N_("needs a product the customer does not have"),
        "excludes_product": N_("the customer has a product this offer excludes"),
    }
    if reason.code in texts:
        return _(texts[reason.code])
    if reason.code == "under_contract":
        days = int(d["days"])
        return ngettext(
            "under contract for %(n)d more day", "under contract for %(n)d more days", days
        ) % {"n": days}
    if reason.code == "outside_validity" and "valid_to" not in d:
        return _("the offer's campaign is not known or not running")
    return explain(reason, tz=tz)
