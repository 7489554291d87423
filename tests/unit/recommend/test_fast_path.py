"""Property tests: the shared-work fast path answers exactly what a from-scratch evaluation does.

The engine judges the contact policy once per channel and once per campaign, shares decisions
between offers the customer never declined, indexes the rules by kind and the history by
campaign and by offer, and reads the customer's own factors once. For generated customers,
catalogues, campaigns, target lists, histories, claims and rule sets, at instants by day and by
night, :func:`agentdesk.recommend.recommend`, :func:`agentdesk.policy.evaluate`, one
:class:`agentdesk.policy.Evaluator` asked about every offer in any order, and
:func:`agentdesk.recommend.score_factors` must equal the straightforward reference of
:mod:`tests.unit.recommend.reference`, field for field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdesk.domain import (
    Campaign,
    Channel,
    ChurnInfo,
    Claim,
    Contact,
    CustomerView,
    Holding,
    Offer,
    OfferReaction,
    Reaction,
    ResultCode,
    Segment,
    TargetListEntry,
    UsageMonth,
)
from agentdesk.policy import Evaluator, RuleKind, RuleSet, default_rules, evaluate
from agentdesk.recommend import recommend, score_factors
from tests.unit.policy.factories import NOW, customer
from tests.unit.recommend.reference import (
    of_kind,
    reference_evaluate,
    reference_recommend,
    reference_score,
)

CID = "C00000001"
OTHER = "C00000002"
D = timedelta(days=1)
CHANNELS = [
    Channel.OUTBOUND_CALL,
    Channel.INBOUND_CALL,
    Channel.STORE,
    Channel.FIELD_VISIT,
    Channel.SMS,
    Channel.PHONE,
]
CAMPAIGN_IDS = ["K1", "K2", "K3", "K4"]
OFFER_IDS = [f"O{i}" for i in range(1, 9)]
PRODUCTS = ["PLAN58", "BB100", "DATA10", "CONTRACT", "VAS"]
TITLES = ["Data pack 10GB", "88元套餐", "Fiber 宽带", "New handset", "Pay by app", "Music club"]
DEFAULT = default_rules().to_dict()
SHANGHAI = ZoneInfo("Asia/Shanghai")

CASES = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip

minutes = st.integers(min_value=-60 * 1440, max_value=3 * 1440)
maybe_campaign = st.one_of(st.none(), st.sampled_from(CAMPAIGN_IDS))


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    """The default rules with some disabled, limits and windows changed, or kinds doubled."""
    rows = []
    for row in DEFAULT["rules"]:
        row = dict(row)
        if draw(st.integers(0, 5)) == 0:
            row["enabled"] = False
        if "limit" in row and draw(st.booleans()):
            # 0 = "not set" for campaign limits; a frequency cap needs at least 1.
            row["limit"] = draw(st.integers(row["kind"] == "frequency_cap", 3))
        if row["kind"] in ("cooldown", "decline_limit") and draw(st.booleans()):
            row["window"] = draw(st.sampled_from(["7d", "45d", "120d"]))
        rows.append(row)
    if draw(st.booleans()):
        rows.append({"rule_id": "cooldown.extra", "kind": "cooldown", "window": "10d"})
    if draw(st.booleans()):
        rows.append({"rule_id": "cap.sms.1d", "kind": "frequency_cap", "limit": 1,
                     "window": "24h", "channels": ["sms"]})  # fmt: skip
    order = draw(st.permutations(range(len(rows))))
    return RuleSet.from_dict({**DEFAULT, "rules": [rows[i] for i in order]})


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    """A contact of the customer (sometimes of another one), with reactions to offers."""
    at = NOW + timedelta(minutes=draw(minutes))
    reactions = tuple(
        OfferReaction(
            offer_id=draw(st.sampled_from(OFFER_IDS)),
            reaction=draw(st.sampled_from(list(Reaction))),
            campaign_id=draw(maybe_campaign),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    return Contact(
        contact_id=f"T{draw(st.integers(0, 10**6)):07d}",
        customer_id=draw(st.sampled_from([CID, CID, CID, OTHER])),
        channel=draw(st.sampled_from(CHANNELS)),
        started_at=at,
        ended_at=at + timedelta(minutes=5),
        result_code=draw(st.sampled_from(list(ResultCode))),
        staff_id=draw(st.sampled_from(["me", "other"])),
        campaign_id=draw(maybe_campaign),
        reactions=reactions,
    )


@st.composite
def campaigns(draw: st.DrawFn, campaign_id: str) -> Campaign:
    """A campaign that may have ended, not started yet, or be paused."""
    start = NOW + draw(st.sampled_from([-200, -30, 1, 2])) * D
    return Campaign(
        campaign_id=campaign_id,
        name=f"Campaign {campaign_id}",
        channels=tuple(CHANNELS),
        strategy="upsell",
        target_group="all",
        valid_from=start,
        valid_to=NOW + draw(st.sampled_from([-1, 3, 200])) * D,
        created_at=start - D,
        priority=draw(st.sampled_from([10, 50, 50, 80, 90])),
        kind=draw(st.sampled_from(["upsell", "retention"])),
        max_attempts=draw(st.integers(0, 4)),
        max_reached=draw(st.integers(0, 2)),
        status=draw(st.sampled_from(["active", "active", "paused"])),
    )


@st.composite
def offers(draw: st.DrawFn, offer_id: str) -> Offer:
    """An offer with segment, holding rules, validity and a title that sets its theme."""
    return Offer(
        offer_id=offer_id,
        campaign_id=draw(st.sampled_from([*CAMPAIGN_IDS, "K9"])),
        title=draw(st.sampled_from(TITLES)),
        product_code=draw(st.sampled_from([*PRODUCTS, f"P{offer_id}"])),
        monthly_fee=draw(st.sampled_from([0.0, 18.0, 58.0])),
        scripts={"outbound_call": "Hello", "default": "Generic"},
        eligible_segments=tuple(draw(st.sets(st.sampled_from(list(Segment)), max_size=3))),
        requires_product=draw(st.one_of(st.none(), st.sampled_from(PRODUCTS))),
        excludes_product=draw(st.one_of(st.none(), st.sampled_from(PRODUCTS))),
        base_propensity=draw(st.sampled_from([0.0, 0.05, 0.2])),
        value=draw(st.sampled_from([0.0, 12.5, 40.0])),
        valid_until=draw(st.one_of(st.none(), st.sampled_from([NOW - D, NOW + 5 * D]))),
    )


@st.composite
def views(draw: st.DrawFn) -> CustomerView:
    """A customer with holdings (plans, contracts), usage, churn risk and restrictions."""
    holdings = tuple(
        Holding(
            holding_id=f"H{i}",
            customer_id=CID,
            product_code=draw(st.sampled_from(PRODUCTS)),
            product_name="holding",
            kind=draw(st.sampled_from(["plan", "data_pack", "contract", "broadband"])),
            data_allowance_mb=draw(st.sampled_from([0, 1000])),
            ends_on=draw(
                st.one_of(
                    st.none(),
                    st.sampled_from([date(2026, 12, 10), date(2027, 6, 1), date(2026, 1, 1)]),
                )
            ),
            status=draw(st.sampled_from(["active", "active", "ended"])),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    usage = tuple(
        UsageMonth(customer_id=CID, month=f"2026-{m:02d}", voice_min=1,
                   data_mb=draw(st.sampled_from([500, 1600, 3000])), sms_count=0, arpu=1.0)
        for m in draw(st.sets(st.integers(6, 10), max_size=4))
    )  # fmt: skip
    attributes = customer(
        segment_id=draw(st.sampled_from(list(Segment))),
        channel_preference=tuple(draw(st.lists(st.sampled_from(CHANNELS), max_size=2,
                                               unique=True))),
        do_not_contact=draw(st.integers(0, 9)) == 0,
        sensitive_channels=(Channel.SMS,) if draw(st.integers(0, 5)) == 0 else (),
        consent_opt_out=(Channel.OUTBOUND_CALL,) if draw(st.integers(0, 5)) == 0 else (),
        bundle_expiry=draw(st.one_of(st.none(), st.just(date(2026, 12, 20)))),
    )  # fmt: skip
    churn = ChurnInfo(risk_level=draw(st.sampled_from(["low", "medium", "high"])), reason="price")
    return CustomerView(attributes=attributes, holdings=holdings, usage=usage, churn=churn)


@dataclass(frozen=True)
class World:
    """Everything one recommendation call reads."""

    view: CustomerView
    channel: Channel
    offers: list[Offer]
    campaigns: list[Campaign]
    targets: list[TargetListEntry]
    history: list[Contact]
    claims: list[Claim]
    rules: RuleSet
    now: datetime


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A customer, a catalogue, campaigns, target list, history, claims, rules and an instant."""
    known = draw(st.sets(st.sampled_from(CAMPAIGN_IDS), min_size=1))
    targets = [
        TargetListEntry(
            customer_id=draw(st.sampled_from([CID, CID, OTHER])),
            campaign_id=draw(st.sampled_from(CAMPAIGN_IDS)),
            wave=draw(st.integers(1, 3)),
            in_control_group=draw(st.integers(0, 4)) == 0,
            assigned_channel=draw(st.one_of(st.none(), st.sampled_from(CHANNELS))),
            score=draw(st.sampled_from([0.0, 0.4, 1.5])),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    claims = [
        Claim(
            claim_id=f"L{i}",
            customer_id=CID,
            holder_id=draw(st.sampled_from(["me", "other"])),
            holder_name="Holder",
            channel=Channel.FIELD_VISIT,
            fence=i,
            lease_until=NOW + timedelta(minutes=draw(st.integers(-30, 30))),
        )
        for i in range(draw(st.integers(0, 1)))
    ]
    return World(
        view=draw(views()),
        channel=draw(st.sampled_from(CHANNELS)),
        offers=[draw(offers(o)) for o in sorted(draw(st.sets(st.sampled_from(OFFER_IDS))))],
        campaigns=[draw(campaigns(k)) for k in sorted(known)],
        targets=targets,
        history=draw(st.lists(contacts(), max_size=8)),
        claims=claims,
        rules=draw(rule_sets()),
        now=(NOW + timedelta(minutes=draw(st.integers(-1440, 1440)))).astimezone(
            draw(st.sampled_from([UTC, SHANGHAI]))
        ),
    )


users = st.sampled_from([None, "me", "other"])


@CASES
@given(worlds(), st.integers(1, 6), users)
def test_recommend_equals_judging_every_offer_from_scratch(
    w: World, limit: int, user: str | None
) -> None:
    args = (
        w.view,
        w.channel,
        w.offers,
        w.campaigns,
        w.targets,
        w.history,
        w.claims,
        w.rules,
        w.now,
    )
    fast = recommend(*args, limit, user_id=user)
    slow = reference_recommend(*args, limit, user_id=user)
    assert fast == slow
    assert repr(fast) == repr(slow)  # same types, time zones and detail key order too


@CASES
@given(worlds(), users, st.randoms(use_true_random=False))
def test_one_evaluator_for_every_offer_equals_evaluating_each_alone(
    w: World, user: str | None, rnd: Random
) -> None:
    who = w.view.attributes
    shared = Evaluator(
        who, w.channel, w.history, w.claims, w.rules, w.now,
        user_id=user, targets=w.targets, campaigns=w.campaigns,
    )  # fmt: skip
    pitches: list[tuple[Campaign | None, str | None]] = [(None, None)]
    pitches += [(k, None) for k in w.campaigns]
    pitches += [(k, o.offer_id) for k in [None, *w.campaigns] for o in w.offers]
    rnd.shuffle(pitches)
    for campaign, offer_id in pitches:
        args = (who, w.channel, campaign, w.history, w.claims, w.rules, w.now)
        slow = reference_evaluate(
            *args, user_id=user, offer_id=offer_id, targets=w.targets, campaigns=w.campaigns
        )
        alone = evaluate(
            *args, user_id=user, offer_id=offer_id, targets=w.targets, campaigns=w.campaigns
        )
        assert repr(shared.decide(campaign, offer_id)) == repr(slow)
        assert repr(alone) == repr(slow)


@settings(CASES, max_examples=50)
@given(worlds())
def test_factors_and_rule_look_ups_equal_the_reference(w: World) -> None:
    for kind in RuleKind:
        assert w.rules.of_kind(kind) == of_kind(w.rules, kind)
    by_id = {k.campaign_id: k for k in w.campaigns}
    for offer in w.offers:
        campaign = by_id.get(offer.campaign_id)
        if campaign is None:
            continue
        args = (w.view, w.channel, offer, campaign, w.targets, w.now)
        assert repr(score_factors(*args)) == repr(reference_score(*args))
