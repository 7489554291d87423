"""The factors of an offer's score, each drawn from the customer's own data.

``score = propensity × value × campaign priority weight × channel fit``. Every multiplier that
differs from 1 comes with a :class:`~agentdesk.policy.Reason` (code + details) so the agent sees
*why* ("bundle expires in 21 days", "data usage 3× plan for 3 months"); the UI translates the
codes with :func:`agentdesk.recommend.texts.explain_factor`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from agentdesk.domain import Campaign, Channel, CustomerView, Offer, TargetListEntry
from agentdesk.policy import Reason
from agentdesk.recommend.themes import offer_theme

__all__ = ["Factors", "score_factors"]

_BUNDLE_DAYS = 60
_DATA_RATIO = 1.5
_PLAN_KINDS = ("plan", "data_pack")


@dataclass(frozen=True, slots=True)
class Factors:
    """The four factors and the reasons behind them."""

    propensity: float
    value: float
    weight: float
    fit: float
    reasons: tuple[Reason, ...]

    @property
    def score(self) -> float:
        """The product of the factors, rounded for stable display and ordering."""
        return round(self.propensity * self.value * self.weight * self.fit, 6)


def _reason(code: str, factor: float, **detail: object) -> Reason:
    return Reason(code=code, detail={"factor": round(factor, 3), **detail})


def _bundle(view: CustomerView, now: datetime) -> Reason | None:
    ends = [h.ends_on for h in view.holdings if h.ends_on and h.status == "active"]
    if view.attributes.bundle_expiry:
        ends.append(view.attributes.bundle_expiry)
    days = [(end - now.date()).days for end in ends]
    soon = [d for d in days if 0 <= d <= _BUNDLE_DAYS]
    return _reason("bundle_expiry", 1.5, days=min(soon)) if soon else None


def _data(view: CustomerView, theme: str) -> Reason | None:
    if theme not in ("data", "plan"):
        return None
    allowance = sum(
        h.data_allowance_mb for h in view.holdings if h.kind in _PLAN_KINDS and h.status == "active"
    )
    recent = sorted(view.usage, key=lambda u: u.month)[-3:]
    if allowance <= 0 or not recent:
        return None
    ratios = [u.data_mb / allowance for u in recent]
    over = [r for r in ratios if r >= _DATA_RATIO]
    if len(over) < 2:
        return None
    ratio = sum(over) / len(over)
    return _reason(
        "data_over_plan", 1 + min(ratio, 4.0) / 2, ratio=round(ratio, 1), months=len(over)
    )


def _churn(view: CustomerView, campaign: Campaign) -> Reason | None:
    level = view.churn.risk_level
    if campaign.kind != "retention" or level == "low":
        return None
    factor = 2.0 if level == "high" else 1.4
    return _reason("churn_risk", factor, level=level, reason=view.churn.reason or "")


def _segment(view: CustomerView, offer: Offer) -> Reason | None:
    segment = view.attributes.segment_id
    if offer.eligible_segments and segment in offer.eligible_segments:
        return _reason("segment_match", 1.2, segment=segment.value, name=segment.code_name)
    return None


def _target(entry: TargetListEntry | None) -> Reason | None:
    if entry is None:
        return None
    factor = 1.3 + max(0.0, min(entry.score, 1.0))
    return _reason("on_target_list", factor, wave=entry.wave, score=entry.score)


def _propensity(
    view: CustomerView,
    offer: Offer,
    campaign: Campaign,
    entry: TargetListEntry | None,
    now: datetime,
) -> tuple[float, list[Reason]]:
    theme = offer_theme(offer)
    found = [
        r
        for r in (
            _bundle(view, now),
            _data(view, theme),
            _churn(view, campaign),
            _segment(view, offer),
            _target(entry),
        )
        if r is not None
    ]
    propensity = max(offer.base_propensity, 0.001)
    for r in found:
        propensity *= r.detail["factor"]
    return propensity, found


def _value(view: CustomerView, offer: Offer) -> tuple[float, list[Reason]]:
    value = max(offer.value or offer.monthly_fee, 0.01)
    segment = view.attributes.segment_id
    if segment.high_value:
        return value * 1.2, [
            _reason("high_value", 1.2, segment=segment.value, name=segment.code_name)
        ]
    return value, []


def _fit(
    view: CustomerView, channel: Channel, entry: TargetListEntry | None
) -> tuple[float, list[Reason]]:
    fit, found = 1.0, []
    prefs = view.attributes.channel_preference
    if channel in prefs:
        rank = prefs.index(channel) + 1
        factor = 1.3 if rank == 1 else 1.1
        fit *= factor
        found.append(_reason("prefers_channel", factor, channel=channel.value, rank=rank))
    if entry is not None and entry.assigned_channel is not None:
        factor = 1.2 if entry.assigned_channel is channel else 0.8
        fit *= factor
        found.append(_reason("assigned_channel", factor, channel=entry.assigned_channel.value))
    return fit, found


def score_factors(
    view: CustomerView,
    channel: Channel,
    offer: Offer,
    campaign: Campaign,
    targets: Sequence[TargetListEntry],
    now: datetime,
) -> Factors:
    """Compute the factors of one offer for one customer on one channel."""
    entry = next(
        (
            t
            for t in targets
            if t.campaign_id == campaign.campaign_id
            and t.customer_id == view.customer_id
            and not t.in_control_group
        ),
        None,
    )
    propensity, why_p = _propensity(view, offer, campaign, entry, now)
    value, why_v = _value(view, offer)
    fit, why_f = _fit(view, channel, entry)
    weight = max(campaign.priority, 1) / 50
    why_w = (
        [_reason("campaign_priority", weight, priority=campaign.priority)] if weight != 1 else []
    )
    reasons = sorted([*why_p, *why_v, *why_w, *why_f], key=lambda r: (-r.detail["factor"], r.code))
    return Factors(propensity, value, weight, fit, tuple(reasons))
