"""Opening a customer: the unified view, recommendations and the policy verdict, all local.

Everything is computed from the cache with the same policy and recommendation engines the
service runs, so it works offline. Claims (online only) are taken and released here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from agentdesk.domain import Campaign, Channel, Claim, Contact, CustomerView, TargetListEntry
from agentdesk.policy import Decision, Reason, RuleSet, evaluate
from agentdesk.recommend import RecommendationResult, recommend
from agentdesk.services import cache_reads
from agentdesk.services.dto import (
    CampaignLine,
    ClaimTicket,
    CustomerScreen,
    Freshness,
    OfferCard,
    ReasonLine,
    SuppressedOffer,
    UserSession,
    Verdict,
)
from agentdesk.services.masking import show_id_number, show_phone
from agentdesk.store import CacheDB
from agentdesk.store.codec import parse_ts
from agentdesk.sync import Claimed, ClaimManager, HeldClaim, Offline, PolicyBlocked

__all__ = ["ClaimError", "CustomerNotFound", "CustomerService", "appointment_slots"]

Clock = Callable[[], datetime]
SLOT_STEP = timedelta(minutes=30)
SLOT_HORIZON = timedelta(days=3)
MAX_SLOTS = 24


class CustomerNotFound(LookupError):
    """The customer is not in this user's cache."""


class ClaimError(Exception):
    """A claim could not be taken; ``sentence`` says why."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _lines(reasons: Sequence[Reason], kind: str = "policy") -> tuple[ReasonLine, ...]:
    return tuple(
        ReasonLine(code=r.code, detail=dict(r.detail), until=r.until, rule_id=r.rule_id, kind=kind)
        for r in reasons
    )


def _verdict(decision: Decision) -> Verdict:
    budget = decision.budget.remaining if decision.budget else None
    return Verdict(
        outcome=decision.outcome.value,
        reasons=_lines(decision.reasons),
        deferred_until=decision.deferred_until,
        budget_left=budget,
    )


def appointment_slots(
    allowed: Callable[[datetime], bool], now: datetime, *, limit: int = MAX_SLOTS
) -> tuple[datetime, ...]:
    """Half-hour slots in the next three days at which ``allowed(slot)`` holds (call-backs)."""
    first = (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    first += timedelta(minutes=(30 - first.minute % 30) % 30)
    slots: list[datetime] = []
    slot = first
    while slot < now + SLOT_HORIZON and len(slots) < limit:
        if allowed(slot):
            slots.append(slot)
        slot += SLOT_STEP
    return tuple(slots)


class CustomerService:
    """Builds the customer screen and handles claims.

    Args:
        db: the user's cache.
        session: the logged-in user.
        claims: the claim client (None offline).
        clock: wall clock (tests pin it).
    """

    def __init__(
        self,
        db: CacheDB,
        session: UserSession,
        claims: ClaimManager | None,
        clock: Clock = _utc_now,
    ) -> None:
        self._db = db
        self._session = session
        self._claims = claims
        self._clock = clock

    def open(self, customer_id: str, channel: Channel | None = None) -> CustomerScreen:
        """Everything the customer view shows, for ``channel`` (the user's default if None).

        Raises:
            CustomerNotFound: the customer is not in the cache.
        """
        now = self._clock()
        with self._db.reader() as conn:
            view = cache_reads.customer_view(conn, customer_id)
            if view is None:
                raise CustomerNotFound(customer_id)
            history = cache_reads.contacts(conn, customer_id, limit=200)
            orders = cache_reads.orders(conn, customer_id)
            targets = cache_reads.targets(conn, customer_id)
            campaigns = [c for c in cache_reads.campaigns(conn) if c.active_at(now)]
            offers = cache_reads.offers_for(conn, [c.campaign_id for c in campaigns])
            claim = cache_reads.active_claim(conn, customer_id, now)
            rules = cache_reads.rules(conn)
            synced = cache_reads.synced_at(conn, customer_id)
        channel = channel or self._session.channel
        claims = (claim,) if claim else ()
        return self._screen(
            view, channel, history, orders, targets, campaigns, offers, claims, rules, now, synced
        )

    def _screen(
        self,
        view: CustomerView,
        channel: Channel | None,
        history: list[Contact],
        orders: list,
        targets: list[TargetListEntry],
        campaigns: list[Campaign],
        offers: list,
        claims: tuple[Claim, ...],
        rules: RuleSet,
        now: datetime,
        synced: str | None,
    ) -> CustomerScreen:
        user_id = self._session.user.user_id
        role = self._session.role
        attrs = view.attributes
        if channel is None:
            verdict = Verdict(outcome="blocked", reasons=(ReasonLine(code="read_only"),))
            result = RecommendationResult()
            slots: tuple[datetime, ...] = ()
        else:
            decision = evaluate(
                attrs,
                channel,
                None,
                history,
                claims,
                rules,
                now,
                user_id=user_id,
                inbound=channel.customer_initiated,
                targets=targets,
                campaigns=campaigns,
            )
            verdict = _verdict(decision)
            result = recommend(
                view,
                channel,
                offers,
                campaigns,
                targets,
                history,
                claims,
                rules,
                now,
                user_id=user_id,
            )
            slots = appointment_slots(
                lambda at: (
                    evaluate(
                        attrs,
                        Channel.OUTBOUND_CALL,
                        None,
                        history,
                        claims,
                        rules,
                        at,
                        user_id=user_id,
                        targets=targets,
                        campaigns=campaigns,
                    ).allowed
                ),
                now,
            )
        by_campaign = {c.campaign_id: c for c in campaigns}
        other = next((c for c in claims if c.holder_id != user_id), None)
        return CustomerScreen(
            view=view,
            channel=channel,
            phone=show_phone(attrs.msisdn, role),
            id_number=show_id_number(attrs.id_number, role),
            tenure_days=attrs.tenure_days_on(
                now.date() if isinstance(now, datetime) else date.today()
            ),
            contacts=tuple(history[:50]),
            orders=tuple(orders),
            campaigns=tuple(
                CampaignLine(by_campaign[t.campaign_id], t.in_control_group, t.wave)
                for t in targets
                if t.campaign_id in by_campaign
            ),
            verdict=verdict,
            offers=tuple(
                OfferCard(
                    offer_id=r.offer.offer_id,
                    campaign_id=r.campaign.campaign_id,
                    title=r.offer.title,
                    score=r.score,
                    reasons=_lines(r.reasons, "factor"),
                    script=r.script,
                    monthly_fee=r.offer.monthly_fee,
                    valid_until=r.valid_until,
                )
                for r in result.items
            ),
            suppressed=tuple(
                SuppressedOffer(o.offer_id, o.title, _lines(reasons, "suppression"))
                for o, reasons in result.suppressed
            ),
            freshness=Freshness(
                synced_at=parse_ts(synced) if synced else None,
                usage_month=max((u.month for u in view.usage), default=None),
            ),
            other_claim=other,
            appointment_slots=slots,
        )

    # -- claims --------------------------------------------------------------------------------
    def claim(self, customer_id: str, channel: Channel) -> ClaimTicket:
        """Claim the customer before calling or visiting (online only).

        Raises:
            ClaimError: someone else holds it, the policy forbids it, or we are offline.
        """
        if self._claims is None:
            raise ClaimError(
                "Claims need a connection; the outcome is still saved and checked at sync."
            )
        try:
            held = self._claims.acquire(customer_id, channel.value)
        except Claimed as exc:
            who = exc.holder.get("name") or exc.holder.get("user_id", "?")
            raise ClaimError(f"Being worked by {who} ({exc.holder.get('channel', '')}).") from exc
        except PolicyBlocked as exc:
            raise ClaimError(
                "The contact policy does not allow contacting this customer now."
            ) from exc
        except Offline as exc:
            raise ClaimError("No connection: claims need the service.") from exc
        return ClaimTicket(
            claim_id=held.claim_id,
            customer_id=customer_id,
            fence=held.fence,
            lease_until=parse_ts(held.lease_until),
        )

    def release(self, ticket: ClaimTicket) -> None:
        """Give a claim back (the outcome releases it by itself)."""
        if self._claims is None:
            return
        held = HeldClaim(
            claim_id=ticket.claim_id,
            customer_id=ticket.customer_id,
            channel="",
            fence=ticket.fence,
            ttl_s=0,
            lease_until="",
            deadline=0.0,
        )
        self._claims.release(held)
