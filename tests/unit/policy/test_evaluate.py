"""What an agent sees when they ask "may I contact this customer now?"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentdesk.domain import Channel, OfferReaction, Reaction, ResultCode, TargetListEntry
from agentdesk.policy import Budget, Outcome, default_rules, evaluate, load_rules
from tests.unit.policy.factories import NOW, campaign, claim, contact, customer

RULES = default_rules()
H = timedelta(hours=1)
D = timedelta(days=1)


def test_a_fresh_customer_may_be_called_and_has_the_whole_budget() -> None:
    decision = evaluate(customer(), Channel.FIELD_VISIT, campaign(), [], [], RULES, NOW)
    assert decision.allowed
    assert decision.reasons == ()
    assert decision.budget == Budget(window="7d", limit=2, used=0, remaining=2)


def test_call_centre_morning_blocks_the_store_pitch_at_noon() -> None:
    morning = contact(NOW - 2 * H, Channel.OUTBOUND_CALL, campaign_id="K0001")
    decision = evaluate(
        customer(), Channel.STORE, campaign("K0002"), [morning], [], RULES, NOW, inbound=True
    )
    assert decision.outcome is Outcome.DEFERRED
    assert decision.inbound
    assert decision.codes == ("min_gap",)
    assert decision.deferred_until == morning.started_at + D
    assert decision.reasons[0].detail["last_channel"] == "outbound_call"


def test_global_cap_frees_up_when_the_oldest_contact_ages_out() -> None:
    old = contact(NOW - 6 * D, Channel.SMS, campaign_id="K0001")
    recent = contact(NOW - 2 * D, Channel.FIELD_VISIT, campaign_id="K0001")
    decision = evaluate(customer(), Channel.FIELD_VISIT, None, [recent, old], [], RULES, NOW)
    assert decision.outcome is Outcome.DEFERRED
    assert decision.codes == ("frequency_cap",)
    cap = decision.reasons[0]
    assert (cap.detail["limit"], cap.detail["used"]) == (2, 2)
    assert cap.detail["contact_ids"] == [old.contact_id, recent.contact_id]
    assert decision.deferred_until == old.started_at + 7 * D
    assert decision.budget == Budget(window="7d", limit=2, used=2, remaining=0)


def test_outbound_channel_cap_is_tighter_than_the_global_cap() -> None:
    call = contact(NOW - 3 * D, Channel.OUTBOUND_CALL)
    decision = evaluate(customer(), Channel.OUTBOUND_CALL, None, [call], [], RULES, NOW)
    assert decision.codes == ("channel_cap",)
    assert decision.budget == Budget(window="7d", limit=1, used=1, remaining=0)
    # 7 days after the call is 11:00 local on 30 Nov: inside working hours.
    assert decision.deferred_until == call.started_at + 7 * D


def test_quiet_hours_defer_to_nine_in_the_morning_local_time() -> None:
    evening = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)  # 22:30 in Guangzhou
    decision = evaluate(customer(), Channel.SMS, None, [], [], RULES, evening)
    assert decision.codes == ("quiet_hours",)
    assert decision.deferred_until == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    early = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # 08:30 local, same morning
    assert evaluate(customer(), Channel.SMS, None, [], [], RULES, early).deferred_until == (
        datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    )
    assert evaluate(customer(), Channel.STORE, None, [], [], RULES, evening).allowed


def test_deferral_waits_for_every_rule_at_once() -> None:
    # Gap frees at 20:00 local (12:00 UTC) but quiet hours start at 21:00... then the gap is
    # fine while quiet hours hold until 09:00 next day.
    last = contact(datetime(2026, 11, 25, 13, 30, tzinfo=UTC), Channel.SMS)  # 21:30 local
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 20:00 local, gap until 21:30 local
    decision = evaluate(customer(), Channel.FIELD_VISIT, None, [last], [], RULES, now)
    assert decision.codes == ("min_gap",)
    assert decision.deferred_until == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def test_inbound_contacts_that_only_serve_do_not_count() -> None:
    service = contact(NOW - H, Channel.INBOUND_CALL, result=ResultCode.REACHED_NO_OFFER)
    decision = evaluate(customer(), Channel.FIELD_VISIT, None, [service], [], RULES, NOW)
    assert decision.allowed


def test_other_customers_contacts_are_ignored() -> None:
    other = contact(NOW - H, customer_id="C00000002")
    assert evaluate(customer(), Channel.OUTBOUND_CALL, None, [other], [], RULES, NOW).allowed


@pytest.mark.parametrize(
    ("changes", "channel", "code"),
    [
        ({"do_not_contact": True}, Channel.STORE, "do_not_contact"),
        (
            {"sensitive_channels": (Channel.OUTBOUND_CALL,)},
            Channel.OUTBOUND_CALL,
            "sensitive_channel",
        ),
        ({"is_sensitive": True}, Channel.SMS, "sensitive_channel"),
        ({"consent_opt_out": (Channel.SMS,)}, Channel.SMS, "consent"),
    ],
)
def test_customer_wishes_block_for_good(
    changes: dict[str, object], channel: Channel, code: str
) -> None:
    decision = evaluate(customer(**changes), channel, None, [], [], RULES, NOW)
    assert decision.outcome is Outcome.BLOCKED
    assert decision.codes == (code,)
    assert decision.dropped


def test_sensitive_list_names_only_its_channels() -> None:
    who = customer(is_sensitive=True, sensitive_channels=(Channel.OUTBOUND_CALL,))
    assert evaluate(who, Channel.SMS, None, [], [], RULES, NOW).allowed


def test_asking_for_no_contact_makes_that_channel_sensitive_at_once() -> None:
    ask = contact(NOW - 10 * D, Channel.OUTBOUND_CALL, result=ResultCode.DO_NOT_CONTACT_REQUESTED)
    decision = evaluate(customer(), Channel.OUTBOUND_CALL, None, [ask], [], RULES, NOW)
    assert decision.codes == ("sensitive_channel",)
    assert decision.reasons[0].detail["requested_in"] == ask.contact_id
    assert evaluate(customer(), Channel.FIELD_VISIT, None, [ask], [], RULES, NOW).allowed
    later = contact(NOW + D, Channel.OUTBOUND_CALL, result=ResultCode.DO_NOT_CONTACT_REQUESTED)
    assert evaluate(customer(), Channel.OUTBOUND_CALL, None, [later], [], RULES, NOW).codes == (
        "channel_cap",
    )


def test_a_claim_held_by_someone_else_blocks_until_its_lease_ends() -> None:
    lease = claim("zhang", until=NOW + 10 * timedelta(minutes=1), acquired=NOW - H)
    decision = evaluate(
        customer(), Channel.OUTBOUND_CALL, None, [], [lease], RULES, NOW, user_id="li"
    )
    assert decision.outcome is Outcome.BLOCKED
    assert decision.codes == ("claimed_by_other",)
    assert decision.reasons[0].until == lease.lease_until
    assert decision.reasons[0].detail["holder_id"] == "zhang"
    assert not decision.dropped
    mine = evaluate(
        customer(), Channel.OUTBOUND_CALL, None, [], [lease], RULES, NOW, user_id="zhang"
    )
    assert mine.allowed
    expired = claim("zhang", until=NOW - timedelta(seconds=1))
    assert evaluate(customer(), Channel.SMS, None, [], [expired], RULES, NOW, user_id="li").allowed


def test_control_group_is_never_offered() -> None:
    entry = TargetListEntry(customer_id="C00000001", campaign_id="K0001", in_control_group=True)
    decision = evaluate(
        customer(), Channel.OUTBOUND_CALL, campaign(), [], [], RULES, NOW, targets=[entry]
    )
    assert decision.codes == ("control_group",)
    assert decision.dropped


def test_campaign_attempts_and_reached_caps_end_the_campaign() -> None:
    tries = [
        contact(NOW - (10 + i) * D, campaign_id="K0001", result=ResultCode.NOT_REACHED_BUSY)
        for i in range(3)
    ]
    decision = evaluate(customer(), Channel.STORE, campaign(), tries, [], RULES, NOW)
    assert decision.codes == ("campaign_attempts",)
    assert decision.reasons[0].detail == {"campaign_id": "K0001", "limit": 3, "used": 3}
    reached = [contact(NOW - 20 * D, campaign_id="K0001")]
    assert evaluate(customer(), Channel.STORE, campaign(), reached, [], RULES, NOW).codes == (
        "campaign_reached",
    )
    generous = campaign(max_reached=2)
    strict_rules = load_rules('[[rules]]\nrule_id = "r"\nkind = "campaign_reached"\n')
    assert evaluate(customer(), Channel.STORE, generous, reached, [], strict_rules, NOW).allowed


def test_a_declined_offer_cools_down_for_thirty_days() -> None:
    declined = contact(
        NOW - 10 * D,
        Channel.STORE,
        reactions=(
            OfferReaction(offer_id="O0001", reaction=Reaction.DECLINE, campaign_id="K0001"),
        ),
    )
    # A campaign that may reach the customer again (rules take the stricter of both limits).
    rules = load_rules(
        '[[rules]]\nrule_id = "cooldown.offer.30d"\nkind = "cooldown"\nwindow = "30d"\n'
    )
    decision = evaluate(
        customer(), Channel.FIELD_VISIT, campaign(), [declined], [], rules, NOW, offer_id="O0001"
    )
    assert decision.codes == ("suppressed",)
    assert decision.reasons[0].detail["contact_ids"] == [declined.contact_id]
    assert decision.deferred_until == declined.started_at + 30 * D
    other_offer = evaluate(
        customer(), Channel.FIELD_VISIT, campaign(), [declined], [], rules, NOW, offer_id="O0002"
    )
    assert other_offer.allowed


def test_three_declines_in_ninety_days_end_the_campaign() -> None:
    declines = [
        contact(NOW - (20 + 20 * i) * D, campaign_id="K0001", result=ResultCode.REACHED_DECLINED)
        for i in range(3)
    ]
    rules = load_rules(
        '[[rules]]\nrule_id = "d"\nkind = "decline_limit"\nlimit = 3\nwindow = "90d"\n'
    )
    decision = evaluate(customer(), Channel.FIELD_VISIT, campaign(), declines, [], rules, NOW)
    assert decision.codes == ("declined_too_often",)
    assert decision.reasons[0].detail["used"] == 3
    assert decision.dropped
    assert evaluate(
        customer(), Channel.FIELD_VISIT, campaign(), declines[:2], [], rules, NOW
    ).allowed
    older = evaluate(customer(), Channel.FIELD_VISIT, campaign(), declines, [], rules, NOW + 30 * D)
    assert older.allowed


def test_campaign_validity_blocks_after_and_defers_before() -> None:
    ended = campaign(valid_to=NOW - D)
    assert evaluate(customer(), Channel.SMS, ended, [], [], RULES, NOW).codes == (
        "outside_validity",
    )
    paused = campaign(status="paused")
    assert evaluate(customer(), Channel.SMS, paused, [], [], RULES, NOW).dropped
    starts = campaign(valid_from=NOW + 2 * D)
    decision = evaluate(customer(), Channel.SMS, starts, [], [], RULES, NOW)
    assert decision.outcome is Outcome.DEFERRED
    assert decision.deferred_until == NOW + 2 * D


def test_deferral_beyond_the_campaign_end_is_a_block() -> None:
    last = contact(NOW - H, Channel.SMS)
    short = campaign(valid_to=NOW + 2 * H)
    decision = evaluate(customer(), Channel.FIELD_VISIT, short, [last], [], RULES, NOW)
    assert decision.outcome is Outcome.BLOCKED
    assert decision.codes == ("min_gap", "outside_validity")
    assert decision.deferred_until is None


def test_higher_priority_campaign_gets_the_last_free_slot() -> None:
    low, high = campaign("K0001", priority=10), campaign("K0002", priority=90)
    targets = [
        TargetListEntry(customer_id="C00000001", campaign_id="K0001"),
        TargetListEntry(customer_id="C00000001", campaign_id="K0002"),
    ]
    first = contact(NOW - 3 * D, Channel.SMS)
    args = (customer(), Channel.FIELD_VISIT)
    decision = evaluate(*args, low, [first], [], RULES, NOW, targets=targets, campaigns=[low, high])
    assert decision.codes == ("priority",)
    assert decision.reasons[0].detail["campaign_id"] == "K0002"
    assert decision.deferred_until == first.started_at + 7 * D
    winner = evaluate(*args, high, [first], [], RULES, NOW, targets=targets, campaigns=[low, high])
    assert winner.allowed
    # With both slots free there is nothing to arbitrate.
    assert evaluate(*args, low, [], [], RULES, NOW, targets=targets, campaigns=[low, high]).allowed


def test_priority_yields_only_to_rivals_still_working_the_customer() -> None:
    low, high = campaign("K0001", priority=10), campaign("K0002", priority=90, valid_to=NOW + D)
    targets = [TargetListEntry(customer_id="C00000001", campaign_id="K0002")]
    first = contact(NOW - 3 * D, Channel.SMS)
    done = contact(
        NOW - 4 * D, Channel.STORE, campaign_id="K0002", result=ResultCode.REACHED_ACCEPTED
    )
    args = (customer(), Channel.FIELD_VISIT, low)
    finished = evaluate(*args, [first, done], [], RULES, NOW, targets=targets, campaigns=[high])
    assert finished.codes == ("frequency_cap",)
    waiting = evaluate(*args, [first], [], RULES, NOW, targets=targets, campaigns=[high])
    assert waiting.deferred_until == NOW + D  # the rival campaign ends first
    control = [TargetListEntry(customer_id="C00000001", campaign_id="K0002", in_control_group=True)]
    assert evaluate(*args, [first], [], RULES, NOW, targets=control, campaigns=[high]).allowed


def test_rule_set_without_caps_has_no_budget() -> None:
    bare = load_rules("version = 1\n")
    decision = evaluate(customer(), Channel.OUTBOUND_CALL, None, [], [], bare, NOW)
    assert decision.allowed
    assert decision.budget is None


def test_a_quiet_window_within_one_day_defers_to_its_end() -> None:
    lunch = load_rules(
        '[[rules]]\nrule_id = "quiet.lunch"\nkind = "quiet_hours"\nstart = "12:00"\nend = "14:00"\n'
    )
    at_noon = datetime(2026, 11, 26, 4, 30, tzinfo=UTC)  # 12:30 in Guangzhou
    decision = evaluate(customer(), Channel.OUTBOUND_CALL, None, [], [], lunch, at_noon)
    assert decision.deferred_until == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    assert evaluate(customer(), Channel.OUTBOUND_CALL, None, [], [], lunch, NOW).allowed
