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

__all__ = ["Factors", "Scorer", "score_factors"]

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


def _data(view: CustomerView) -> Reason | None:
    """Data use well over the plan's allowance (for data and plan offers)."""
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


def _target(entry: TargetListEntry | None) -> Reason | None:
    if entry is None:
        return None
    factor = 1.3 + max(0.0, min(entry.score, 1.0))
    return _reason("on_target_list", factor, wave=entry.wave, score=entry.score)


def _prefers(view: CustomerView, channel: Channel) -> tuple[float, list[Reason]]:
    prefs = view.attributes.channel_preference
    if channel not in prefs:
        return 1.0, []
    rank = prefs.index(channel) + 1
    factor = 1.3 if rank == 1 else 1.1
    return factor, [_reason("prefers_channel", factor, channel=channel.value, rank=rank)]


@dataclass(frozen=True, slots=True)
class _CampaignFactors:
    """What a campaign's target-list entry adds: the target reason and the channel fit."""

    target: Reason | None
    fit: float
    why_fit: list[Reason]


class Scorer:
    """The factors of many offers for one customer on one channel at one instant.

    What does not depend on the offer (bundle expiry, data use, segment, channel preference) is
    read once; what depends on the campaign (target-list entry, assigned channel) once per
    campaign. ``Scorer(...).score(offer, campaign)`` equals
    :func:`score_factors` with the same arguments.
    """

    __slots__ = (
        "_bundle",
        "_by_campaign",
        "_channel",
        "_data",
        "_high_value",
        "_prefers",
        "_segment",
        "_segment_match",
        "_targets",
        "_view",
    )

    def __init__(
        self,
        view: CustomerView,
        channel: Channel,
        targets: Sequence[TargetListEntry],
        now: datetime,
    ) -> None:
        """Read the customer's own factors."""
        self._view = view
        self._channel = channel
        self._targets = targets
        self._bundle = _bundle(view, now)
        self._data = _data(view)
        segment = view.attributes.segment_id
        self._segment = segment
        named = {"segment": segment.value, "name": segment.code_name}
        self._segment_match = _reason("segment_match", 1.2, **named)
        self._high_value = [_reason("high_value", 1.2, **named)] if segment.high_value else []
        self._prefers = _prefers(view, channel)
        self._by_campaign: dict[str, _CampaignFactors] = {}

    def _campaign(self, campaign_id: str) -> _CampaignFactors:
        known = self._by_campaign.get(campaign_id)
        if known is not None:
            return known
        customer_id = self._view.customer_id
        entry = next(
            (
                t
                for t in self._targets
                if t.campaign_id == campaign_id
                and t.customer_id == customer_id
                and not t.in_control_group
            ),
            None,
        )
        fit, why_fit = self._prefers
        why_fit = list(why_fit)
        if entry is not None and entry.assigned_channel is not None:
            factor = 1.2 if entry.assigned_channel is self._channel else 0.8
            fit *= factor
            why_fit.append(
                _reason("assigned_channel", factor, channel=entry.assigned_channel.value)
            )
        known = _CampaignFactors(target=_target(entry), fit=fit, why_fit=why_fit)
        self._by_campaign[campaign_id] = known
        return known

    def score(self, offer: Offer, campaign: Campaign) -> Factors:
        """The factors of ``offer`` of ``campaign``."""
        view = self._view
        per_campaign = self._campaign(campaign.campaign_id)
        theme = offer_theme(offer)
        segment_match = bool(offer.eligible_segments) and self._segment in offer.eligible_segments
        why_p = [
            r
            for r in (
                self._bundle,
                self._data if theme in ("data", "plan") else None,
                _churn(view, campaign),
                self._segment_match if segment_match else None,
                per_campaign.target,
            )
            if r is not None
        ]
        propensity = max(offer.base_propensity, 0.001)
        for r in why_p:
            propensity *= r.detail["factor"]
        value = max(offer.value or offer.monthly_fee, 0.01)
        why_v = self._high_value
        if why_v:
            value = value * 1.2
        weight = max(campaign.priority, 1) / 50
        why_w = (
            [_reason("campaign_priority", weight, priority=campaign.priority)]
            if weight != 1
            else []
        )
        reasons = sorted(
            [*why_p, *why_v, *why_w, *per_campaign.why_fit],
            key=lambda r: (-r.detail["factor"], r.code),
        )
        return Factors(propensity, value, weight, per_campaign.fit, tuple(reasons))


def score_factors(
    view: CustomerView,
    channel: Channel,
    offer: Offer,
    campaign: Campaign,
    targets: Sequence[TargetListEntry],
    now: datetime,
) -> Factors:
    """Compute the factors of one offer for one customer on one channel."""
    return Scorer(view, channel, targets, now).score(offer, campaign)
