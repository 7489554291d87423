"""Work queues: the outbound call list, the field visit plan and portfolio, supervisor figures.

All computed from the local cache (offline included) with the store's list and statistics
repositories. The call list is ranked by the seed-004 selection score with the contact policy
applied now: callable customers first (best score first), then the deferred ones with when
they come back; blocked ones are left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from agentdesk.domain import Campaign, Channel, CustomerAttributes
from agentdesk.i18n import _
from agentdesk.protocol import VisitPlanPayload
from agentdesk.recommend import CallListEntry as RankInput
from agentdesk.recommend import rank_call_list
from agentdesk.services import cache_reads
from agentdesk.services.customer import ClaimError, RuleCache
from agentdesk.services.dto import (
    AttentionItem,
    CallListEntry,
    CampaignProgress,
    ClaimReleases,
    PreclaimSummary,
    ReasonLine,
    SupervisorStats,
    UserSession,
    VisitEntry,
)
from agentdesk.services.masking import show_phone
from agentdesk.store import (
    CacheDB,
    customer_repo,
    lists_repo,
    stats_repo,
    transaction,
    visit_plan_repo,
)
from agentdesk.store.codec import parse_ts
from agentdesk.store.outbox import record_intent
from agentdesk.sync import ClaimManager, HeldClaim, Offline, ServerBusy, SyncError
from agentdesk.sync.claims import MAX_PRECLAIM_CUSTOMERS, MAX_PRECLAIM_S, PreclaimResult

__all__ = ["CallListService", "SupervisorService", "VisitPlanService"]

Clock = Callable[[], datetime]
CALL_LIST_SIZE = 100
PLAN_SIZE = 8
HISTORY = timedelta(days=120)
CONFLICT_WINDOW = timedelta(days=30)
_CLAIM_CHUNK = 20  # visits asked per ClaimManager.preclaim_visits call (progress steps)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CallListService:
    """The call-centre agent's outbound list."""

    def __init__(self, db: CacheDB, session: UserSession, clock: Clock = _utc_now) -> None:
        self._db = db
        self._session = session
        self._clock = clock
        self._rules = RuleCache()

    def entries(self) -> list[CallListEntry]:
        """Callable customers by score, then the deferred ones (with when they come back)."""
        now = self._clock()
        with self._db.reader() as conn:
            _offers, all_campaigns = customer_repo.load_offers_and_campaigns(conn)
            campaigns = {c.campaign_id: c for c in all_campaigns if c.active_at(now)}
            rows = lists_repo.call_list(
                conn,
                sorted(campaigns),
                channel=Channel.OUTBOUND_CALL.value,
                limit=CALL_LIST_SIZE,
                now=now,
            )
            ids = list(dict.fromkeys(r.customer_id for r in rows))
            attrs = cache_reads.customer_attributes(conn, ids)
            history = cache_reads.histories(conn, ids, now - HISTORY)
            loaded = customer_repo.load_rules(conn)
        first: dict[str, str] = {}
        for row in rows:
            first.setdefault(row.customer_id, row.campaign_id)
        inputs = [
            RankInput(
                customer=attrs[cid],
                history=tuple(history.get(cid, ())),
                campaign=campaigns[first[cid]],
            )
            for cid in ids
            if cid in attrs
        ]
        ranked = rank_call_list(
            inputs,
            [],
            self._rules.get(loaded),
            now,
            user_id=self._session.user.user_id,
            campaigns=list(campaigns.values()),
        )
        return [
            self._entry(e.customer, e.campaign, s.score, "allowed") for e, s in ranked.ready
        ] + [
            self._entry(e.customer, e.campaign, 0.0, "deferred", d.deferred_until)
            for e, d in ranked.deferred
        ]

    def _entry(
        self,
        customer: CustomerAttributes,
        campaign: Campaign | None,
        score: float,
        outcome: str,
        due: datetime | None = None,
    ) -> CallListEntry:
        return CallListEntry(
            customer.customer_id,
            customer.name,
            show_phone(customer.msisdn, self._session.role),
            score,
            campaign.name if campaign else "",
            outcome,
            due,
        )


class VisitPlanService:
    """The account manager's portfolio and today's visit plan.

    The plan is kept in the local cache (editing works offline); "Claim my visits" pre-claims
    it through the service (online only) and stores, per visit, the lease end or the refusal.

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
        claims: ClaimManager | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self._db = db
        self._session = session
        self._claims = claims
        self._clock = clock

    @property
    def online(self) -> bool:
        """Whether claims can be asked for (a service connection exists)."""
        return self._claims is not None

    def portfolio(self) -> list[VisitEntry]:
        """The portfolio, most at risk and most valuable first."""
        with self._db.reader() as conn:
            rows = lists_repo.portfolio(
                conn, self._session.user.user_id, limit=2000, now=self._clock()
            )
            if not rows:  # a portfolio assigned by list rather than by account manager id
                rows = self._all(conn)
        return [self._visit(r) for r in rows]

    def today(self) -> list[VisitEntry]:
        """Today's plan: the saved plan, else a suggestion of the most urgent customers."""
        day = self._day()
        with self._db.reader() as conn:
            if visit_plan_repo.plan_saved(conn, day):  # even emptied on purpose
                saved = visit_plan_repo.plan_rows(conn, day, now=self._clock())
                return [self._with_claim(self._visit(row, planned=True), i) for i, row in saved]
            planned = lists_repo.visit_plan(conn, day)  # a plan recorded before the plan table
        if planned:
            return [self._visit(r, planned=True) for r in planned]
        suggestion = [e for e in self.portfolio() if not e.visited][:PLAN_SIZE]
        return [dataclasses.replace(e, planned=True) for e in suggestion]

    def save_plan(self, customer_ids: Sequence[str]) -> list[VisitEntry]:
        """Make ``customer_ids`` today's plan, in this order (offline too); returns the plan."""
        with self._db.writer() as conn, transaction(conn):
            visit_plan_repo.save_plan(conn, self._day(), customer_ids)
        return self.today()

    def claim_plan(
        self,
        customer_ids: Sequence[str] | None = None,
        *,
        hours: float = MAX_PRECLAIM_S / 3600,
        progress: Callable[[float], None] | None = None,
    ) -> PreclaimSummary:
        """Pre-claim today's plan before going offline (at most 200 visits, at most 12 h).

        ``customer_ids`` (the plan as edited on screen) is saved as today's plan first; None
        claims the saved plan (or the suggestion, which then becomes the plan).

        Visits already claimed (lease still running) are asked again: the service answers the
        holder's own claim with the same claim id, so asking twice is harmless.

        Raises:
            ClaimError: offline, or the service is unreachable or busy.
        """
        if self._claims is None:
            raise ClaimError(
                _("Claiming visits needs a connection; the plan is kept on this computer.")
            )
        planned = (
            list(customer_ids)
            if customer_ids is not None
            else [e.customer_id for e in self.today()]
        )
        with self._db.writer() as conn, transaction(conn):  # a suggestion becomes the plan
            visit_plan_repo.save_plan(conn, self._day(), planned)
        ids = list(dict.fromkeys(planned))[:MAX_PRECLAIM_CUSTOMERS]
        hours = min(hours, MAX_PRECLAIM_S / 3600)
        result = PreclaimResult()
        try:
            for start in range(0, len(ids), _CLAIM_CHUNK):
                part = self._claims.preclaim_visits(
                    ids[start : start + _CLAIM_CHUNK], Channel.FIELD_VISIT.value, hours=hours
                )
                result.held.extend(part.held)
                result.refused.update(part.refused)
                if progress is not None:
                    progress(min(1.0, (start + _CLAIM_CHUNK) / len(ids)))
        except Offline as exc:
            self._record(result)  # keep what was granted before the connection dropped
            raise ClaimError(
                _("No connection: claims need the service. The plan is kept on this computer.")
            ) from exc
        except ServerBusy as exc:
            self._record(result)
            raise ClaimError(_("The service is busy; try claiming again in a minute.")) from exc
        self._record(result)
        return PreclaimSummary(
            plan=tuple(self.today()),
            held=len(result.held),
            refused=len(result.refused),
            left_out=max(0, len(dict.fromkeys(planned)) - len(ids)),
            hours=hours,
        )

    def release_removed(self) -> ClaimReleases:
        """Give back the claims of visits taken out of the plan (after a save, after a sync).

        Online, each claim is released and forgotten; a claim that already ran out is just
        forgotten. Without a connection the claims stay to be given back at the next sync and
        are returned with their lease end (they run out by themselves then).
        """
        now = self._clock()
        with self._db.reader() as conn:
            due = visit_plan_repo.releases_due(conn)
        released: list[tuple[str, str]] = []
        waiting: list[tuple[str, datetime]] = []
        reachable = self._claims is not None
        for day, item in due:
            until = parse_ts(item.claim_until) if item.claim_until else now
            if until <= now:
                released.append((day, item.customer_id))  # ran out: nothing to give back
                continue
            if reachable and self._claims is not None:
                try:
                    self._claims.release(_plan_claim(item))
                except (Offline, ServerBusy):
                    reachable = False  # the rest waits for the next sync too
                except SyncError:
                    released.append((day, item.customer_id))  # not ours any more
                    continue
                else:
                    released.append((day, item.customer_id))
                    continue
            waiting.append((item.customer_id, until))
        if released:
            with self._db.writer() as conn, transaction(conn):
                for day, customer_id in released:
                    visit_plan_repo.forget_release(conn, day, customer_id)
        return ClaimReleases(released=tuple(cid for _day, cid in released), waiting=tuple(waiting))

    def plan_today(self, customer_ids: list[str]) -> str:
        """Record today's visit plan (outbox intent ``visit_plan``); returns its id."""
        payload = VisitPlanPayload(day=self._day(), customer_ids=customer_ids)
        with self._db.writer() as conn:
            return record_intent(conn, "visit_plan", payload).id

    def _record(self, result: PreclaimResult) -> None:
        held = {h.customer_id: (h.claim_id, h.fence, h.lease_until) for h in result.held}
        refused = {cid: (exc.code, dict(exc.details)) for cid, exc in result.refused.items()}
        if not held and not refused:
            return
        with self._db.writer() as conn, transaction(conn):
            visit_plan_repo.record_claims(conn, self._day(), held, refused)

    def _day(self) -> str:
        return self._clock().date().isoformat()

    def _with_claim(self, entry: VisitEntry, item: visit_plan_repo.PlanItem) -> VisitEntry:
        if item.claim_until:
            until = parse_ts(item.claim_until)
            if until > self._clock():
                return dataclasses.replace(entry, claim_until=until)
            return entry  # the pre-claim ran out: neither claimed nor refused any more
        if item.refused_code:
            detail = item.refused_detail or {}
            holder = detail.get("holder") or {}
            reasons = tuple(
                ReasonLine(
                    code=str(r.get("code", "")),
                    detail=dict(r.get("detail") or {}),
                    until=parse_ts(r["until"]) if r.get("until") else None,
                    rule_id=r.get("rule_id"),
                )
                for r in detail.get("reasons") or ()
                if isinstance(r, dict)
            )
            return dataclasses.replace(
                entry,
                refused=item.refused_code,
                refused_by=str(holder.get("name") or holder.get("user_id") or ""),
                refused_since=parse_ts(holder["acquired_at"])
                if holder.get("acquired_at")
                else None,
                refused_reasons=reasons,
            )
        return entry

    def _all(self, conn: object) -> list[lists_repo.PortfolioRow]:
        sql = (
            "SELECT customer_id, name, msisdn, segment_id, value_tier, churn_risk, churn_level, "
            "NULL, 0, 0 FROM customer ORDER BY churn_risk DESC, value_tier LIMIT 2000"
        )
        return [lists_repo.PortfolioRow(*r) for r in conn.execute(sql)]  # type: ignore[attr-defined]

    def _visit(self, row: lists_repo.PortfolioRow, planned: bool = False) -> VisitEntry:
        today = self._clock().date().isoformat()
        visited = bool(row.last_contact_at and row.last_contact_at.startswith(today))
        return VisitEntry(
            row.customer_id,
            row.name,
            row.churn_level,
            row.segment_id,
            row.value_tier,
            planned,
            visited,
            row.contacts_30d,
        )


def _plan_claim(item: visit_plan_repo.PlanItem) -> HeldClaim:
    return HeldClaim(
        claim_id=item.claim_id or "",
        customer_id=item.customer_id,
        channel=Channel.FIELD_VISIT.value,
        fence=item.fence or 0,
        ttl_s=MAX_PRECLAIM_S,
        lease_until=item.claim_until or "",
        deadline=0.0,
    )


class SupervisorService:
    """Campaign progress and conflicts for the supervisor's charts."""

    def __init__(self, db: CacheDB, session: UserSession, clock: Clock = _utc_now) -> None:
        self._db = db
        self._session = session
        self._clock = clock

    def stats(self) -> SupervisorStats:
        """Per-campaign figures, control-group lift, and conflicts by type and channel."""
        since = self._clock() - CONFLICT_WINDOW
        with self._db.reader() as conn:
            _offers, campaigns = customer_repo.load_offers_and_campaigns(conn)
            names = {c.campaign_id: c.name for c in campaigns}
            progress = stats_repo.campaign_progress(conn)
            groups = {
                p.campaign_id: stats_repo.control_vs_treatment(conn, p.campaign_id)
                for p in progress
            }
            by_type = dict(stats_repo.conflicts_by_type(conn, since))
            recent = [
                (*row[:6], cache_reads.other_contact_times(conn, row[6]))
                for row in cache_reads.recent_conflicts(conn)
            ]
        items = tuple(
            AttentionItem(
                item_id=cid,
                kind="contact",
                state="conflict",
                customer_id=customer,
                code=kind,
                detail={"channel": channel, "summary": staff, "staff_id": staff, **conflict},
                created_at=when,
            )
            for cid, customer, channel, when, kind, staff, conflict in recent
        )
        by_channel: dict[str, int] = {}
        for item in items:
            channel = str(item.detail["channel"])
            by_channel[channel] = by_channel.get(channel, 0) + 1
        figures = tuple(
            CampaignProgress(
                campaign_id=p.campaign_id,
                name=names.get(p.campaign_id, p.campaign_id),
                targets=p.targets,
                contacted=p.contacted,
                reached=p.reached,
                # from the ledger only: a customer counts as accepted when one of the campaign's
                # contacts ended "reached: accepted", so accepted <= reached <= contacted.
                accepted=min(p.accepted, p.reached),
                control_size=p.control,
                control_accepted=groups[p.campaign_id].control_accepted,
                treatment_took=groups[p.campaign_id].treatment_accepted,
            )
            for p in progress
        )
        return SupervisorStats(figures, by_type, by_channel, items)
