"""Opening a customer: the unified view, recommendations and the policy verdict, all local.

Everything is computed from the cache with the same policy and recommendation engines the
service runs, so it works offline. Claims (online only) are taken and released here too.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from agentdesk.domain import Campaign, Channel, Claim, Contact, Offer
from agentdesk.i18n import _, format_datetime
from agentdesk.policy import Decision, Reason, RuleSet, default_rules, evaluate
from agentdesk.recommend import RecommendationResult, recommend
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
from agentdesk.services.live_view import LiveService, bundle_from_view
from agentdesk.services.masking import show_id_number, show_phone
from agentdesk.store import CacheDB, customer_repo, visit_plan_repo
from agentdesk.store.apply import cache_filling
from agentdesk.store.codec import parse_ts
from agentdesk.store.customer_repo import CustomerBundle
from agentdesk.sync import (
    Claimed,
    ClaimManager,
    Forbidden,
    HeldClaim,
    NotFound,
    Offline,
    PolicyBlocked,
    SyncError,
)
from agentdesk.sync.claims import DEFAULT_TTL_S

__all__ = [
    "CacheFilling",
    "ClaimError",
    "CustomerNotFound",
    "CustomerService",
    "appointment_slots",
]

Clock = Callable[[], datetime]
SLOT_STEP = timedelta(minutes=30)
SLOT_HORIZON = timedelta(days=3)
MAX_SLOTS = 24
HISTORY_WINDOW = timedelta(days=120)


_Around = tuple[
    list[Offer], list[Campaign], customer_repo.LoadedRules | None, visit_plan_repo.PlanItem | None
]
_Cached = tuple[CustomerBundle, list[Contact], *_Around]


class CustomerNotFound(LookupError):
    """The customer is not in this user's cache (nor, while it fills, in the user's scope).

    ``filling``: the cache was still being filled by a first sync and the service could not be
    asked, so the customer may simply not have arrived yet.
    """

    def __init__(self, customer_id: str, *, filling: bool = False) -> None:
        super().__init__(customer_id)
        self.customer_id = customer_id
        self.filling = filling

    def __reduce__(self) -> tuple[Any, ...]:  # raised in the worker process, read in the GUI
        return (_not_found, (self.customer_id, self.filling))

    @property
    def sentence(self) -> str:
        """What the user reads."""
        if self.filling:
            return _(
                "{id} is not in the cache yet: the first sync is still running and the "
                "service cannot be reached."
            ).format(id=self.customer_id)
        return _("{id} is not among your customers.").format(id=self.customer_id)


def _around(conn: sqlite3.Connection, customer_id: str) -> _Around:
    """What the screen needs from the cache besides the customer: offers, campaigns, the rule
    set, and the visit plan's claim of the customer."""
    offers, campaigns = customer_repo.load_offers_and_campaigns(conn)
    return (
        offers,
        campaigns,
        customer_repo.load_rules(conn),
        visit_plan_repo.held_claim(conn, customer_id),
    )


def _not_found(customer_id: str, filling: bool) -> CustomerNotFound:
    return CustomerNotFound(customer_id, filling=filling)


class CacheFilling(Exception):
    """The cache is still being filled by a first sync: open the customer from the service's
    view (:meth:`CustomerService.fetch_view`, then ``open(..., view=...)``)."""


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


class RuleCache:
    """The contact-policy rule set, parsed once per pulled version (parsing costs ~10 ms)."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._rules: RuleSet | None = None

    def get(self, loaded: customer_repo.LoadedRules | None) -> RuleSet:
        """The rule set of ``loaded``, or the bundled defaults before the first pull."""
        version = loaded.version if loaded else -1
        if self._rules is None or version != self._version:
            self._rules = _parse_rules(loaded.rules if loaded else None)
            self._version = version
        return self._rules


def _parse_rules(data: dict[str, Any] | None) -> RuleSet:
    if data is None:
        return default_rules()
    try:
        return RuleSet.from_dict(data)
    except (KeyError, ValueError, TypeError):
        return default_rules()


def appointment_slots(
    decide: Callable[[datetime], Decision], now: datetime, *, limit: int = MAX_SLOTS
) -> tuple[datetime, ...]:
    """Half-hour slots in the next three days that the policy allows (call-backs, visits).

    A deferred slot jumps straight to the decision's ``deferred_until`` (quiet hours, gaps), so
    this costs about ``limit`` evaluations, not one per half hour.
    """
    slot = _round_up(now + timedelta(hours=1))
    slots: list[datetime] = []
    while slot < now + SLOT_HORIZON and len(slots) < limit:
        decision = decide(slot)
        if decision.allowed:
            slots.append(slot)
            slot += SLOT_STEP
        elif decision.deferred_until is not None and decision.deferred_until > slot:
            slot = _round_up(decision.deferred_until)
        else:
            break
    return tuple(slots)


def _round_up(moment: datetime) -> datetime:
    """The first half hour at or after ``moment`` (10:00:30 → 10:30, never back to 10:00)."""
    whole = moment.replace(second=0, microsecond=0)
    if whole < moment:
        whole += timedelta(minutes=1)
    return whole + timedelta(minutes=(30 - whole.minute % 30) % 30)


class CustomerService:
    """Builds the customer screen and handles claims.

    Args:
        db: the user's cache.
        session: the logged-in user.
        claims: the claim client (None offline).
        clock: wall clock (tests pin it).
        live: the service, asked for the view while a first sync fills the cache (None
            offline).
    """

    def __init__(
        self,
        db: CacheDB,
        session: UserSession,
        claims: ClaimManager | None,
        clock: Clock = _utc_now,
        live: LiveService | None = None,
    ) -> None:
        self._db = db
        self._session = session
        self._claims = claims
        self._live = live
        self._clock = clock
        self._rules = RuleCache()
        self.claim_ttl_s = DEFAULT_TTL_S

    @property
    def can_ask_service(self) -> bool:
        """Whether this session has a connection to ask the service (it may still not answer)."""
        return self._live is not None

    def open(
        self,
        customer_id: str,
        channel: Channel | None = None,
        *,
        view: dict[str, Any] | None = None,
        live_first: bool = False,
    ) -> CustomerScreen:
        """Everything the customer view shows, for ``channel`` (the user's default if None).

        While a first sync fills the cache (docs/sync.md, "While the cache fills") the screen
        is built from the service's unified view instead (``freshness.live``): this service
        fetches it when it has a connection; a copy without one (the worker process) is handed
        the view that :meth:`fetch_view` got on a thread.

        Args:
            customer_id: the customer (a merged-away id opens the kept customer).
            channel: the channel to check and recommend for.
            view: the service's unified view of the customer (from :meth:`fetch_view`).
            live_first: while the cache fills, raise :class:`CacheFilling` rather than read
                the cache (whose lookups scan whole tables then), so the caller fetches the
                view and opens again with it.

        Raises:
            CustomerNotFound: the customer is not in the cache (nor in the user's scope, when
                the service was asked).
            CacheFilling: ``live_first`` and the cache is still filling.
        """
        now = self._clock()
        if view is not None:
            return self._open_view(view, channel, now)
        ask = self._live is not None or live_first
        with self._db.reader() as conn:
            filling = cache_filling(conn)
            cached = None if filling and ask else self._read(conn, customer_id, now, filling)
        if cached is None:
            if self._live is None:
                raise CacheFilling(customer_id)
            data = self.fetch_view(customer_id)
            if data is not None:
                return self._open_view(data, channel, now)
            with self._db.reader() as conn:  # the service did not answer: the cache so far
                cached = self._read(conn, customer_id, now, filling)
        return self._complete(*cached, channel, now)

    def _read(
        self, conn: sqlite3.Connection, customer_id: str, now: datetime, filling: bool
    ) -> _Cached:
        """What the screen needs, from the cache."""
        bundle = customer_repo.load_customer_view(conn, customer_id)
        if bundle is None:
            raise CustomerNotFound(customer_id, filling=filling)
        kept = bundle.view.customer_id
        history = customer_repo.load_history(conn, kept, now - HISTORY_WINDOW)
        return bundle, history, *_around(conn, kept)

    def fetch_view(self, customer_id: str) -> dict[str, Any] | None:
        """The service's unified view of the customer (``GET /v1/customers/{id}``), to open it
        while the cache fills; None without a connection or when the service cannot answer.

        Raises:
            CustomerNotFound: the service has no such customer in the user's scope.
        """
        if self._live is None:
            return None
        try:
            return self._live.view(customer_id)
        except (NotFound, Forbidden) as exc:
            raise CustomerNotFound(customer_id) from exc

    def _open_view(
        self, data: dict[str, Any], channel: Channel | None, now: datetime
    ) -> CustomerScreen:
        """The screen from the service's view, with this device's unsent outcomes."""
        kept = str(data.get("customer_id") or "")
        with self._db.reader() as conn:
            unsent, unsent_results = customer_repo.unsent_contacts(conn, kept)
            offers, campaigns, loaded, planned = _around(conn, kept)
        bundle = bundle_from_view(data, unsent, unsent_results)
        # the customer's campaigns come with the view: before the first page brought the
        # campaign table they are the only ones known
        known = {c.campaign_id for c in campaigns}
        campaigns = [*campaigns, *(c for c in bundle.campaigns if c.campaign_id not in known)]
        since = now - HISTORY_WINDOW
        history = sorted(
            (c for c in bundle.contacts if c.started_at >= since), key=lambda c: c.started_at
        )
        screen = self._complete(bundle, history, offers, campaigns, loaded, planned, channel, now)
        live = Freshness(usage_month=bundle.usage_as_of, live=True)
        return dataclasses.replace(screen, freshness=live)

    def _complete(
        self,
        bundle: CustomerBundle,
        history: list[Contact],
        offers: list[Offer],
        campaigns: list[Campaign],
        loaded: customer_repo.LoadedRules | None,
        planned: visit_plan_repo.PlanItem | None,
        channel: Channel | None,
        now: datetime,
    ) -> CustomerScreen:
        rules = self._rules.get(loaded)
        active = [c for c in campaigns if c.active_at(now)]
        live = {c.campaign_id for c in active}
        claim = (
            bundle.active_claim
            if bundle.active_claim and bundle.active_claim.valid_at(now)
            else None
        )
        screen = self._screen(
            bundle,
            channel or self._session.channel,
            history,
            [o for o in offers if o.campaign_id in live],
            active,
            (claim,) if claim else (),
            rules,
            now,
        )
        own = _preclaim_ticket(planned, now)
        return dataclasses.replace(screen, own_claim=own) if own else screen

    def _screen(
        self,
        bundle: CustomerBundle,
        channel: Channel | None,
        history: list[Contact],
        offers: list[Offer],
        campaigns: list[Campaign],
        claims: tuple[Claim, ...],
        rules: RuleSet,
        now: datetime,
    ) -> CustomerScreen:
        user_id = self._session.user.user_id
        role = self._session.role
        view, targets = bundle.view, list(bundle.targets)
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
            # the next appointment is a visit for the account manager, a call-back otherwise
            follow_up = (
                Channel.FIELD_VISIT if channel is Channel.FIELD_VISIT else Channel.OUTBOUND_CALL
            )
            slots = appointment_slots(
                lambda at: evaluate(
                    attrs,
                    follow_up,
                    None,
                    history,
                    claims,
                    rules,
                    at,
                    user_id=user_id,
                    targets=targets,
                    campaigns=campaigns,
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
            contacts=bundle.contacts,
            orders=bundle.orders,
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
            freshness=Freshness(synced_at=bundle.synced_at, usage_month=bundle.usage_as_of),
            other_claim=other,
            appointment_slots=slots,
        )

    # -- claims --------------------------------------------------------------------------------
    def claim(self, customer_id: str, channel: Channel) -> ClaimTicket:
        """Claim the customer before calling or visiting (online only).

        Raises:
            ClaimError: someone else holds it, the policy forbids it, or we are offline.
        """
        held_longer = self._preclaimed(customer_id)
        if held_longer is not None:  # asking again would cut the lease to claim_ttl_s
            return dataclasses.replace(
                held_longer,
                message=_("Already yours until {time}: claimed with your visit plan.").format(
                    time=format_datetime(held_longer.lease_until, fmt="HH:mm")
                ),
            )
        if self._claims is None:
            raise ClaimError(
                _("Claims need a connection; the outcome is still saved and checked at sync.")
            )
        try:
            held = self._claims.acquire(customer_id, channel.value, ttl_s=self.claim_ttl_s)
        except Claimed as exc:
            who = exc.holder.get("name") or exc.holder.get("user_id", "?")
            held_on = exc.holder.get("channel", "")
            since = exc.holder.get("acquired_at")
            if since:
                raise ClaimError(
                    _("Being worked by {who} ({channel}) since {since}.").format(
                        who=who, channel=held_on, since=_hh_mm(since)
                    )
                ) from exc
            raise ClaimError(
                _("Being worked by {who} ({channel}).").format(who=who, channel=held_on)
            ) from exc
        except PolicyBlocked as exc:
            raise ClaimError(
                _("The contact policy does not allow contacting this customer now.")
            ) from exc
        except Offline as exc:
            raise ClaimError(_("No connection: claims need the service.")) from exc
        return ClaimTicket(
            claim_id=held.claim_id,
            customer_id=customer_id,
            fence=held.fence,
            lease_until=parse_ts(held.lease_until),
            ttl_s=held.ttl_s,
        )

    def renew(self, ticket: ClaimTicket) -> ClaimTicket:
        """Extend a held claim by its TTL (called every TTL/3 while the customer stays open).

        A claim the visit plan holds for longer (pre-claimed meanwhile: same claim) is not
        renewed, which would shorten it; the ticket comes back marked ``preclaimed``.

        Raises:
            ClaimError: the lease was lost (expired, taken over) or the service is unreachable.
        """
        held_longer = self._preclaimed(ticket.customer_id)
        if held_longer is not None and held_longer.claim_id == ticket.claim_id:
            return held_longer
        if self._claims is None:
            raise ClaimError(_("No connection: claims need the service."))
        try:
            held = self._claims.renew(_held(ticket))
        except Offline as exc:
            raise ClaimError(_("No connection: claims need the service.")) from exc
        except SyncError as exc:
            raise ClaimError(_("The claim was lost; check the contact history.")) from exc
        return dataclasses.replace(ticket, lease_until=parse_ts(held.lease_until))

    def _preclaimed(self, customer_id: str) -> ClaimTicket | None:
        """The visit plan's claim of the customer when it runs longer than a claim would."""
        now = self._clock()
        with self._db.reader() as conn:
            planned = visit_plan_repo.held_claim(conn, customer_id)
        ticket = _preclaim_ticket(planned, now)
        if ticket is None or ticket.lease_until <= now + timedelta(seconds=self.claim_ttl_s):
            return None
        return ticket

    def release(self, ticket: ClaimTicket) -> None:
        """Give a claim back (the outcome releases it by itself)."""
        if self._claims is None:
            return
        self._claims.release(_held(ticket))


def _hh_mm(wire: str) -> str:
    """``HH:MM`` in the display time zone of a service timestamp (the text itself if unparsable)."""
    try:
        return format_datetime(parse_ts(wire), fmt="HH:mm")
    except ValueError:
        return wire


def _preclaim_ticket(item: visit_plan_repo.PlanItem | None, now: datetime) -> ClaimTicket | None:
    """The ticket of a planned visit's claim while it still runs."""
    if item is None or not item.claim_id or item.fence is None or not item.claim_until:
        return None
    until = parse_ts(item.claim_until)
    if until <= now:
        return None
    return ClaimTicket(
        claim_id=item.claim_id,
        customer_id=item.customer_id,
        fence=item.fence,
        lease_until=until,
        ttl_s=max(1, int((until - now).total_seconds())),
        preclaimed=True,
    )


def _held(ticket: ClaimTicket) -> HeldClaim:
    return HeldClaim(
        claim_id=ticket.claim_id,
        customer_id=ticket.customer_id,
        channel="",
        fence=ticket.fence,
        ttl_s=ticket.ttl_s,
        lease_until="",
        deadline=0.0,
    )
