"""Offer eligibility: segment, holdings, contract end, acceptance, validity, contact policy."""

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
from agentdesk.policy import Reason, RuleSet, evaluate
from agentdesk.recommend.themes import offer_theme

__all__ = ["offer_blocks"]

_CONTRACT_DAYS = 60


def _holds(view: CustomerView, product_code: str) -> bool:
    return any(h.product_code == product_code and h.status == "active" for h in view.holdings)


def _contract_block(view: CustomerView, offer: Offer, now: datetime) -> Reason | None:
    """A plan change waits until a running contract is within 60 days of its end."""
    if offer_theme(offer) != "plan":
        return None
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


def _product_blocks(
    view: CustomerView, offer: Offer, history: Sequence[Contact], now: datetime
) -> list[Reason]:
    found = []
    segment = view.attributes.segment_id
    if offer.eligible_segments and segment not in offer.eligible_segments:
        allowed = [s.value for s in offer.eligible_segments]
        found.append(
            Reason(code="segment_mismatch", detail={"segment": segment.value, "eligible": allowed})
        )
    if _holds(view, offer.product_code):
        found.append(Reason(code="already_owns", detail={"product_code": offer.product_code}))
    accepted = [
        c.contact_id
        for c in history
        if c.customer_id == view.customer_id
        and any(r.offer_id == offer.offer_id and r.reaction is Reaction.ACCEPT for r in c.reactions)
    ]
    if accepted:
        found.append(Reason(code="already_accepted", detail={"contact_ids": sorted(accepted)}))
    contract = _contract_block(view, offer, now)
    if contract is not None:
        found.append(contract)
    if offer.requires_product and not _holds(view, offer.requires_product):
        found.append(
            Reason(code="requires_product", detail={"product_code": offer.requires_product})
        )
    if offer.excludes_product and _holds(view, offer.excludes_product):
        found.append(
            Reason(code="excludes_product", detail={"product_code": offer.excludes_product})
        )
    return found


def offer_blocks(
    view: CustomerView,
    channel: Channel,
    offer: Offer,
    campaign: Campaign | None,
    context: tuple[
        Sequence[Campaign], Sequence[TargetListEntry], Sequence[Contact], Sequence[Claim]
    ],
    rules: RuleSet,
    now: datetime,
    user_id: str | None,
) -> list[Reason]:
    """Why ``offer`` may not be pitched to this customer on ``channel`` now (empty: it may)."""
    campaigns, targets, history, claims = context
    if campaign is None:
        return [Reason(code="outside_validity", detail={"campaign_id": offer.campaign_id})]
    found = _product_blocks(view, offer, history, now)
    if offer.valid_until is not None and now >= offer.valid_until:
        detail = {"offer_id": offer.offer_id, "valid_to": offer.valid_until.isoformat()}
        found.append(Reason(code="outside_validity", rule_id="offer.validity", detail=detail))
    decision = evaluate(
        view.attributes,
        channel,
        campaign,
        history,
        claims,
        rules,
        now,
        user_id=user_id,
        offer_id=offer.offer_id,
        targets=targets,
        campaigns=campaigns,
    )
    return found + list(decision.reasons)
