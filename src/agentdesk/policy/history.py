"""One customer's contact history, normalised: filtered, sorted, and queried by rule kind.

Sorting by ``(started_at, contact_id)`` makes every evaluation independent of the order in
which the history arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from agentdesk.domain import Channel, Contact, Reaction, ResultCode

__all__ = ["Facts", "in_campaign"]


def in_campaign(contact: Contact, campaign_id: str) -> bool:
    """Whether a contact worked on ``campaign_id`` (its own id or one of its reactions')."""
    return contact.campaign_id == campaign_id or any(
        r.campaign_id == campaign_id for r in contact.reactions
    )


def _declined_campaign(contact: Contact, campaign_id: str) -> bool:
    if contact.campaign_id == campaign_id and contact.result_code is ResultCode.REACHED_DECLINED:
        return True
    return any(
        r.reaction is Reaction.DECLINE and (r.campaign_id or contact.campaign_id) == campaign_id
        for r in contact.reactions
    )


@dataclass(frozen=True, slots=True)
class Facts:
    """The contacts of one customer, sorted, with the marketing ones apart."""

    contacts: tuple[Contact, ...]
    marketing: tuple[Contact, ...]

    @classmethod
    def build(
        cls, history: Sequence[Contact], customer_id: str, exclude: str | None = None
    ) -> Facts:
        """Keep ``customer_id``'s contacts except ``exclude``, sorted by time then id."""
        mine = sorted(
            (c for c in history if c.customer_id == customer_id and c.contact_id != exclude),
            key=lambda c: (c.started_at, c.contact_id),
        )
        return cls(tuple(mine), tuple(c for c in mine if c.is_marketing))

    def marketing_on(self, channels: Sequence[Channel]) -> tuple[Contact, ...]:
        """Marketing contacts on ``channels`` (all when empty), sorted."""
        if not channels:
            return self.marketing
        return tuple(c for c in self.marketing if c.channel in channels)

    def campaign_contacts(self, campaign_id: str) -> tuple[Contact, ...]:
        """Contacts that worked on a campaign."""
        return tuple(c for c in self.contacts if in_campaign(c, campaign_id))

    def campaign_declines(self, campaign_id: str) -> tuple[Contact, ...]:
        """Contacts in which the customer declined the campaign (one per contact)."""
        return tuple(c for c in self.contacts if _declined_campaign(c, campaign_id))

    def offer_declines(self, offer_id: str) -> tuple[Contact, ...]:
        """Contacts in which the customer declined ``offer_id``."""
        return tuple(
            c
            for c in self.contacts
            if any(r.offer_id == offer_id and r.reaction is Reaction.DECLINE for r in c.reactions)
        )

    def dnc_request(self, channel: Channel, at: datetime) -> Contact | None:
        """The last contact on ``channel`` up to ``at`` asking for no more contact."""
        found = None
        for contact in self.contacts:
            if contact.started_at > at:
                break
            if (
                contact.channel is channel
                and contact.result_code is ResultCode.DO_NOT_CONTACT_REQUESTED
            ):
                found = contact
        return found
