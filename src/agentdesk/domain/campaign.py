"""Campaigns, offers with per-channel scripts, target lists, marketing orders (docs/domain.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from agentdesk.domain.enums import Channel, Gender, OrderStatus, Segment

__all__ = ["Campaign", "MarketingOrder", "Offer", "TargetListEntry"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign:
    """营销方案信息: a marketing plan with its channels, strategy, group and validity."""

    campaign_id: str
    name: str
    channels: tuple[Channel, ...]
    strategy: str
    target_group: str
    valid_from: datetime
    valid_to: datetime
    created_at: datetime
    priority: int = 50  # higher wins arbitration
    kind: str = "upsell"  # upsell | retention | cross_sell | e_channel | care
    max_attempts: int = 3
    max_reached: int = 1
    wave: int = 1
    status: str = "active"

    def active_at(self, now: datetime) -> bool:
        """True inside the validity window."""
        return self.status == "active" and self.valid_from <= now < self.valid_to


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """An offer of a campaign, with a talk script per channel."""

    offer_id: str
    campaign_id: str
    title: str
    product_code: str
    monthly_fee: float
    description: str = ""
    scripts: dict[str, str] = field(default_factory=dict)  # channel value -> script
    eligible_segments: tuple[Segment, ...] = ()  # empty = all
    requires_product: str | None = None
    excludes_product: str | None = None
    base_propensity: float = 0.1
    value: float = 0.0  # expected monthly margin
    valid_until: datetime | None = None

    def script_for(self, channel: Channel) -> str:
        """The talk script for ``channel``, falling back to the generic one."""
        return self.scripts.get(channel.value) or self.scripts.get("default", "")


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetListEntry:
    """目标客户名单: one customer selected for a campaign."""

    customer_id: str
    campaign_id: str
    customer_name: str = ""
    gender: Gender = Gender.UNKNOWN
    segment_id: Segment = Segment.SS3
    address: str = ""
    industry: str = ""
    wave: int = 1
    in_control_group: bool = False
    assigned_channel: Channel | None = None
    score: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketingOrder:
    """营销单: a list entry matched to a channel and strategy, in flight."""

    order_id: str
    customer_id: str
    campaign_id: str
    channel: Channel
    strategy: str
    status: OrderStatus
    created_at: datetime
    staff_id: str | None = None
