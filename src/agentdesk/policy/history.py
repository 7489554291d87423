"""One customer's contact history, normalised: filtered, sorted, and queried by rule kind.

Sorting by ``(started_at, contact_id)`` makes every evaluation independent of the order in
which the history arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agentdesk.domain import Channel, Contact, Reaction, ResultCode

__all__ = ["Facts"]


def _campaign_index(
    contacts: Sequence[Contact],
) -> tuple[dict[str, tuple[Contact, ...]], dict[str, tuple[Contact, ...]]]:
    """One pass: campaign id -> the contacts that worked on it, and those that declined it."""
    worked: dict[str, list[Contact]] = {}
    declined: dict[str, list[Contact]] = {}
    for contact in contacts:
        own = contact.campaign_id
        ids = {r.campaign_id for r in contact.reactions if r.campaign_id is not None}
        no = {r.campaign_id or own for r in contact.reactions if r.reaction is Reaction.DECLINE}
        if own is not None:
            ids.add(own)
            if contact.result_code is ResultCode.REACHED_DECLINED:
                no.add(own)
        for campaign_id in ids:
            worked.setdefault(campaign_id, []).append(contact)
        for declined_id in no:
            if declined_id is not None:
                declined.setdefault(declined_id, []).append(contact)
    return (
        {k: tuple(v) for k, v in worked.items()},
        {k: tuple(v) for k, v in declined.items()},
    )


@dataclass(frozen=True, slots=True)
class Facts:
    """The contacts of one customer, sorted, with the marketing ones apart."""

    contacts: tuple[Contact, ...]
    marketing: tuple[Contact, ...]
    # Built on the first campaign question and kept: (worked on, declined) per campaign id.
    _campaigns: tuple[dict[str, tuple[Contact, ...]], dict[str, tuple[Contact, ...]]] | None = (
        field(default=None, init=False, repr=False, compare=False)
    )

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

    def _index(self) -> tuple[dict[str, tuple[Contact, ...]], dict[str, tuple[Contact, ...]]]:
        index = self._campaigns
        if index is None:
            index = _campaign_index(self.contacts)
            object.__setattr__(self, "_campaigns", index)
        return index

    def campaign_contacts(self, campaign_id: str) -> tuple[Contact, ...]:
        """Contacts that worked on a campaign (its own id or one of its reactions')."""
        return self._index()[0].get(campaign_id, ())

    def campaign_declines(self, campaign_id: str) -> tuple[Contact, ...]:
        """Contacts in which the customer declined the campaign (one per contact)."""
        return self._index()[1].get(campaign_id, ())

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
