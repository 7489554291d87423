"""Offer eligibility: segment, holdings, contract end, acceptance, validity, contact policy.

:class:`Eligibility` reads one customer's holdings, acceptances and contracts once and judges the
contact policy once per channel (:class:`agentdesk.policy.Evaluator`), so screening the whole
catalogue costs little more than screening one offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentdesk.domain import (
    Campaign,
    Channel,
    Claim,
    Contact,
    CustomerView,
    Offer,
    Reaction,
    TargetListEntry,
)
from agentdesk.policy import Evaluator, Reason, RuleSet
from agentdesk.recommend.themes import offer_theme

__all__ = ["Eligibility"]

_CONTRACT_DAYS = 60


def _contract_block(view: CustomerView, now: datetime) -> Reason | None:
    """A running contract more than 60 days from its end holds plan changes back."""
    ends = [
        h.ends_on
        for h in view.holdings
        if h.kind == "contract" and h.status == "active" and h.ends_on is not None
    ]
    far = [end for end in ends if (end - now.date()).days > _CONTRACT_DAYS]
    if not far:
        return None
    end = max(far)
    return Reason(
        code="under_contract",
        detail={"ends_on": end.isoformat(), "days": (end - now.date()).days},
    )


def _acceptances(view: CustomerView, history: Sequence[Contact]) -> dict[str, list[str]]:
    """Offer id -> the ids of the customer's contacts in which it was accepted (one per contact)."""
    found: dict[str, list[str]] = {}
    for contact in history:
        if contact.customer_id != view.customer_id:
            continue
        offers = {r.offer_id for r in contact.reactions if r.reaction is Reaction.ACCEPT}
        for offer_id in offers:
            found.setdefault(offer_id, []).append(contact.contact_id)
    return found


class Eligibility:
    """Why an offer may not be pitched to one customer on one channel now (empty: it may)."""

    __slots__ = ("_accepted", "_contract", "_held", "_now", "_policy", "_segment")

    def __init__(
        self,
        view: CustomerView,
        channel: Channel,
        campaigns: Sequence[Campaign],
        targets: Sequence[TargetListEntry],
        history: Sequence[Contact],
        claims: Sequence[Claim],
        rules: RuleSet,
        now: datetime,
        user_id: str | None,
    ) -> None:
        """Read what every offer's check shares: holdings, acceptances, contract, policy."""
        self._now = now
        self._segment = view.attributes.segment_id
        self._held = {h.product_code for h in view.holdings if h.status == "active"}
        self._accepted = _acceptances(view, history)
        self._contract = _contract_block(view, now)
        self._policy = Evaluator(
            view.attributes,
            channel,
            history,
            claims,
            rules,
            now,
            user_id=user_id,
            targets=targets,
            campaigns=campaigns,
        )

    def _product_blocks(self, offer: Offer) -> list[Reason]:
        found = []
        segment = self._segment
        if offer.eligible_segments and segment not in offer.eligible_segments:
            allowed = [s.value for s in offer.eligible_segments]
            found.append(
                Reason(
                    code="segment_mismatch", detail={"segment": segment.value, "eligible": allowed}
                )
            )
        if offer.product_code in self._held:
            found.append(Reason(code="already_owns", detail={"product_code": offer.product_code}))
        accepted = self._accepted.get(offer.offer_id)
        if accepted:
            found.append(Reason(code="already_accepted", detail={"contact_ids": sorted(accepted)}))
        if self._contract is not None and offer_theme(offer) == "plan":
            found.append(self._contract)
        if offer.requires_product and offer.requires_product not in self._held:
            found.append(
                Reason(code="requires_product", detail={"product_code": offer.requires_product})
            )
        if offer.excludes_product and offer.excludes_product in self._held:
            found.append(
                Reason(code="excludes_product", detail={"product_code": offer.excludes_product})
            )
        return found

    def blocks(self, offer: Offer, campaign: Campaign | None) -> list[Reason]:
        """The reasons ``offer`` of ``campaign`` (None: not known or not running) is held back."""
        if campaign is None:
            return [Reason(code="outside_validity", detail={"campaign_id": offer.campaign_id})]
        found = self._product_blocks(offer)
        now = self._now
        if offer.valid_until is not None and now >= offer.valid_until:
            detail = {"offer_id": offer.offer_id, "valid_to": offer.valid_until.isoformat()}
            found.append(Reason(code="outside_validity", rule_id="offer.validity", detail=detail))
        found += self._policy.decide(campaign, offer.offer_id).reasons
        return found
