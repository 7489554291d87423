"""Contacts (客户接触信息) and offer reactions: the facts every channel logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentdesk.domain.enums import Channel, Reaction, ResultCode

__all__ = ["Contact", "OfferReaction"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferReaction:
    """A customer's reaction to one offer during a contact."""

    offer_id: str
    reaction: Reaction
    campaign_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """One contact with a customer and its result: a fact, never rejected for policy."""

    contact_id: str
    customer_id: str
    channel: Channel
    started_at: datetime
    ended_at: datetime
    result_code: ResultCode
    staff_id: str
    campaign_id: str | None = None
    opportunity_id: str | None = None
    next_appointment_at: datetime | None = None
    note: str = ""
    reactions: tuple[OfferReaction, ...] = ()
    server_seq: int | None = None

    @property
    def is_marketing(self) -> bool:
        """Counts against caps: a campaign, a pitched offer, or a channel we start."""
        return bool(self.campaign_id or self.reactions) or not self.channel.customer_initiated

    @property
    def reached(self) -> bool:
        """Whether the customer was reached."""
        return self.result_code.reached
