"""The business vocabulary: frozen dataclasses and enums, stdlib only."""

from agentdesk.domain.campaign import Campaign, MarketingOrder, Offer, TargetListEntry
from agentdesk.domain.contact import Contact, OfferReaction
from agentdesk.domain.customer import (
    ChurnInfo,
    CustomerAttributes,
    CustomerView,
    Holding,
    UsageMonth,
    ValueInfo,
)
from agentdesk.domain.enums import (
    Channel,
    ChannelGroup,
    Gender,
    IdType,
    LifecycleStage,
    LineUseType,
    NumberStatus,
    OrderStatus,
    Reaction,
    ResultCode,
    Role,
    Segment,
    ValueClass,
    VipLevel,
)
from agentdesk.domain.user import Claim, DataIssue, User

__all__ = [
    "Campaign",
    "Channel",
    "ChannelGroup",
    "ChurnInfo",
    "Claim",
    "Contact",
    "CustomerAttributes",
    "CustomerView",
    "DataIssue",
    "Gender",
    "Holding",
    "IdType",
    "LifecycleStage",
    "LineUseType",
    "MarketingOrder",
    "NumberStatus",
    "Offer",
    "OfferReaction",
    "OrderStatus",
    "Reaction",
    "ResultCode",
    "Role",
    "Segment",
    "TargetListEntry",
    "UsageMonth",
    "User",
    "ValueClass",
    "ValueInfo",
    "VipLevel",
]
