"""Next best offers: what the agent is shown, in which order, and what is held back and why."""

from __future__ import annotations

from datetime import date, timedelta

from agentdesk.domain import (
    Channel,
    ChurnInfo,
    CustomerView,
    Holding,
    Offer,
    OfferReaction,
    Reaction,
    Segment,
    TargetListEntry,
    UsageMonth,
)
from agentdesk.policy import default_rules, load_rules
from agentdesk.recommend import MAX_ITEMS, offer_theme, recommend, score_factors
from tests.unit.policy.factories import NOW, campaign, claim, contact, customer

RULES = default_rules()
D = timedelta(days=1)
CID = "C00000001"


def view(**attrs: object) -> CustomerView:
    plan = Holding(
        holding_id="H1",
        customer_id=CID,
        product_code="PLAN58",
        product_name="58 plan",
        kind="plan",
        data_allowance_mb=1000,
        ends_on=date(2026, 12, 17),
    )
    usage = tuple(
        UsageMonth(customer_id=CID, month=m, voice_min=100, data_mb=3000, sms_count=3, arpu=58)
        for m in ("2026-08", "2026-09", "2026-10")
    )
    return CustomerView(attributes=customer(**attrs), holdings=(plan,), usage=usage)


def offer(offer_id: str, campaign_id: str = "K0001", **changes: object) -> Offer:
    base: dict[str, object] = {
        "offer_id": offer_id,
        "campaign_id": campaign_id,
        "title": f"Offer {offer_id}",
        "product_code": f"P{offer_id}",
        "monthly_fee": 30.0,
        "scripts": {"outbound_call": "Hello, calling about…", "default": "Generic script"},
    }
    base.update(changes)
    return Offer(**base)  # type: ignore[arg-type]


def test_offers_rank_by_score_with_reasons_script_and_validity() -> None:
    data = offer("O0001", title="Data pack 10GB", value=40, base_propensity=0.2)
    plain = offer("O0002", value=40, base_propensity=0.2)
    k = campaign()
    who = view(segment_id=Segment.SS2, channel_preference=(Channel.OUTBOUND_CALL,))
    result = recommend(who, Channel.OUTBOUND_CALL, [plain, data], [k], [], [], [], RULES, NOW)
    assert [i.offer.offer_id for i in result.items] == ["O0001", "O0002"]
    top = result.items[0]
    codes = [r.code for r in top.reasons]
    assert {"data_over_plan", "bundle_expiry", "high_value", "prefers_channel"} <= set(codes)
    assert codes[0] == "data_over_plan"  # biggest factor first
    by_code = {r.code: r.detail for r in top.reasons}
    assert by_code["data_over_plan"]["ratio"] == 3.0
    assert by_code["data_over_plan"]["months"] == 3
    assert by_code["bundle_expiry"]["days"] == 21
    assert top.script == "Hello, calling about…"
    assert top.valid_until == k.valid_to
    assert result.suppressed == ()


def test_limit_is_three_by_default_and_at_most_five() -> None:
    offers = [offer(f"O{i:04d}") for i in range(1, 8)]
    args = (view(), Channel.STORE, offers, [campaign()], [], [], [], RULES, NOW)
    assert len(recommend(*args).items) == 3
    assert len(recommend(*args, limit=9).items) == MAX_ITEMS
    assert len(recommend(*args, limit=0).items) == 1


def test_ineligible_offers_are_suppressed_with_why() -> None:
    offers = [
        offer("O0001", eligible_segments=(Segment.SS1,)),
        offer("O0002", product_code="PLAN58"),
        offer("O0003", requires_product="BROADBAND"),
        offer("O0004", excludes_product="PLAN58"),
        offer("O0005", campaign_id="K9999"),
        offer("O0006", valid_until=NOW - D),
        offer(
            "O0007",
            requires_product="PLAN58",
            eligible_segments=(Segment.SS3,),
            valid_until=NOW + 10 * D,
        ),
    ]
    result = recommend(view(), Channel.STORE, offers, [campaign()], [], [], [], RULES, NOW)
    assert [i.offer.offer_id for i in result.items] == ["O0007"]
    assert result.items[0].valid_until == NOW + 10 * D
    assert {i.code for i in result.items[0].reasons} >= {"segment_match"}
    why = {o.offer_id: [r.code for r in rs] for o, rs in result.suppressed}
    assert why == {
        "O0001": ["segment_mismatch"],
        "O0002": ["already_owns"],
        "O0003": ["requires_product"],
        "O0004": ["excludes_product"],
        "O0005": ["outside_validity"],
        "O0006": ["outside_validity"],
    }


def test_reactions_feed_acceptance_and_cool_down() -> None:
    reacted = contact(
        NOW - 40 * D,
        Channel.STORE,
        reactions=(
            OfferReaction(offer_id="O0001", reaction=Reaction.ACCEPT),
            OfferReaction(offer_id="O0002", reaction=Reaction.DECLINE),
        ),
    )
    rules = load_rules('[[rules]]\nrule_id = "c"\nkind = "cooldown"\nwindow = "60d"\n')
    offers = [offer("O0001"), offer("O0002"), offer("O0003")]
    result = recommend(view(), Channel.STORE, offers, [campaign()], [], [reacted], [], rules, NOW)
    assert [i.offer.offer_id for i in result.items] == ["O0003"]
    why = {o.offer_id: [r.code for r in rs] for o, rs in result.suppressed}
    assert why == {"O0001": ["already_accepted"], "O0002": ["suppressed"]}


def test_only_the_customers_own_acceptances_hold_an_offer_back() -> None:
    accepted = OfferReaction(offer_id="O0001", reaction=Reaction.ACCEPT)
    theirs = contact(NOW - 40 * D, Channel.STORE, reactions=(accepted,), customer_id="C00000002")
    mine = contact(NOW - 20 * D, Channel.STORE, reactions=(accepted,))
    offers = [offer("O0001"), offer("O0002")]
    args = (view(), Channel.STORE, offers, [campaign()], [])
    shown = recommend(*args, [theirs], [], RULES, NOW)
    assert [i.offer.offer_id for i in shown.items] == ["O0001", "O0002"]
    held = recommend(*args, [theirs, mine], [], RULES, NOW)
    assert [i.offer.offer_id for i in held.items] == ["O0002"]
    assert held.suppressed[0][1][0].detail == {"contact_ids": [mine.contact_id]}


def test_policy_decision_and_control_group_hold_offers_back() -> None:
    control = [TargetListEntry(customer_id=CID, campaign_id="K0001", in_control_group=True)]
    result = recommend(
        view(), Channel.OUTBOUND_CALL, [offer("O0001")], [campaign()], control, [], [], RULES, NOW
    )
    assert result.items == ()
    assert [r.code for r in result.suppressed[0][1]] == ["control_group"]
    lease = claim("zhang")
    held = recommend(
        view(),
        Channel.FIELD_VISIT,
        [offer("O0001")],
        [campaign()],
        [],
        [],
        [lease],
        RULES,
        NOW,
        user_id="li",
    )
    assert [r.code for r in held.suppressed[0][1]] == ["claimed_by_other"]


def test_target_list_churn_and_assigned_channel_shape_the_score() -> None:
    retention = campaign("K0002", kind="retention", priority=80)
    upsell = campaign("K0001", priority=50)
    keep = offer("O0001", campaign_id="K0002", value=20, base_propensity=0.1)
    sell = offer("O0002", campaign_id="K0001", value=20, base_propensity=0.1)
    targets = [
        TargetListEntry(
            customer_id=CID,
            campaign_id="K0002",
            score=0.5,
            wave=2,
            assigned_channel=Channel.FIELD_VISIT,
        ),
        TargetListEntry(customer_id=CID, campaign_id="K0001", assigned_channel=Channel.SMS),
    ]
    at_risk = CustomerView(
        attributes=customer(channel_preference=(Channel.SMS, Channel.FIELD_VISIT)),
        churn=ChurnInfo(risk_level="high", reason="price"),
    )
    result = recommend(
        at_risk, Channel.FIELD_VISIT, [sell, keep], [upsell, retention], targets, [], [], RULES, NOW
    )
    assert [i.offer.offer_id for i in result.items] == ["O0001", "O0002"]
    keep_why = {r.code: r.detail for r in result.items[0].reasons}
    assert keep_why["churn_risk"]["level"] == "high"
    assert keep_why["on_target_list"]["wave"] == 2
    assert keep_why["assigned_channel"]["factor"] == 1.2
    assert keep_why["prefers_channel"]["rank"] == 2
    assert keep_why["campaign_priority"]["priority"] == 80
    sell_why = {r.code: r.detail for r in result.items[1].reasons}
    assert sell_why["assigned_channel"]["factor"] == 0.8
    medium = CustomerView(attributes=customer(), churn=ChurnInfo(risk_level="medium"))
    factors = score_factors(medium, Channel.STORE, keep, retention, [], NOW)
    assert [r.detail["factor"] for r in factors.reasons if r.code == "churn_risk"] == [1.4]


def test_data_reason_needs_a_plan_and_two_heavy_months() -> None:
    data = offer("O0001", title="流量包")
    k = campaign()
    no_plan = CustomerView(attributes=customer(), usage=view().usage)
    assert "data_over_plan" not in {
        r.code for r in score_factors(no_plan, Channel.STORE, data, k, [], NOW).reasons
    }
    light = CustomerView(
        attributes=customer(),
        holdings=view().holdings,
        usage=(
            UsageMonth(
                customer_id=CID, month="2026-10", voice_min=1, data_mb=1600, sms_count=0, arpu=1
            ),
        ),
    )
    assert "data_over_plan" not in {
        r.code for r in score_factors(light, Channel.STORE, data, k, [], NOW).reasons
    }
    expired = CustomerView(attributes=customer(bundle_expiry=date(2026, 1, 1)))
    assert score_factors(expired, Channel.STORE, data, k, [], NOW).reasons == ()
    soon = CustomerView(attributes=customer(bundle_expiry=date(2026, 12, 6)))
    reasons = score_factors(soon, Channel.STORE, data, k, [], NOW).reasons
    assert {r.code: r.detail.get("days") for r in reasons}["bundle_expiry"] == 10


def test_offer_themes() -> None:
    assert offer_theme(offer("O1", title="Fiber 宽带 200M")) == "broadband"
    assert offer_theme(offer("O1", title="New handset")) == "handset"
    assert offer_theme(offer("O1", title="88 套餐")) == "plan"
    assert offer_theme(offer("O1", title="Pay by app")) == "e_channel"
    assert offer_theme(offer("O1", title="Music club")) == "other"


def test_a_plan_change_waits_for_the_contract_to_near_its_end() -> None:
    contract = Holding(
        holding_id="H9",
        customer_id=CID,
        product_code="CONTRACT-24M",
        product_name="24-month contract",
        kind="contract",
        ends_on=date(2027, 6, 1),
    )
    bound = CustomerView(attributes=customer(), holdings=(contract,))
    plan = offer("O0001", title="88元套餐")
    data = offer("O0002", title="10GB流量包")
    result = recommend(bound, Channel.STORE, [plan, data], [campaign()], [], [], [], RULES, NOW)
    assert [i.offer.offer_id for i in result.items] == ["O0002"]
    assert result.suppressed[0][1][0].code == "under_contract"
    assert result.suppressed[0][1][0].detail == {"ends_on": "2027-06-01", "days": 187}
    a_month_before = NOW.replace(year=2027, month=5, day=1)  # 31 days left
    long_campaign = campaign(valid_to=a_month_before.replace(year=2028))
    near = recommend(
        bound, Channel.STORE, [plan], [long_campaign], [], [], [], RULES, a_month_before
    )
    assert [i.offer.offer_id for i in near.items] == ["O0001"]
