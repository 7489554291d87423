"""What the server flags when a contact that already happened is pushed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentdesk.domain import Channel, OfferReaction, Reaction, ResultCode
from agentdesk.policy import check_contact, default_rules
from tests.unit.policy.factories import NOW, claim, contact, customer

RULES = default_rules()
H = timedelta(hours=1)
D = timedelta(days=1)


def test_a_clean_contact_has_no_violations() -> None:
    made = contact(NOW, Channel.FIELD_VISIT, staff="li")
    assert check_contact(made, customer(), [made], [], RULES) == []


def test_offline_contact_over_the_cap_names_the_other_contacts() -> None:
    a = contact(NOW - 3 * D, Channel.SMS, staff="sms-bot")
    b = contact(NOW - D, Channel.OUTBOUND_CALL, staff="wang")
    offline = contact(NOW, Channel.FIELD_VISIT, staff="li")
    found = check_contact(offline, customer(), [b, offline, a], [], RULES)
    assert [v.type for v in found] == ["frequency_cap"]
    cap = found[0]
    assert (cap.rule_id, cap.limit, cap.count_after) == ("cap.global.7d", "2/7d", 3)
    assert cap.other_contact_ids == (a.contact_id, b.contact_id)
    assert (cap.other_channel, cap.other_agent_id) == (Channel.OUTBOUND_CALL, "wang")


def test_a_contact_is_judged_at_its_own_time_against_later_contacts_too() -> None:
    online = contact(NOW + 5 * H, Channel.OUTBOUND_CALL, staff="wang")
    offline = contact(NOW, Channel.FIELD_VISIT, staff="li")  # pushed hours later
    found = check_contact(offline, customer(), [online], [], RULES)
    assert [(v.type, v.limit, v.count_after) for v in found] == [("min_gap", "24h", 2)]
    assert found[0].other_contact_ids == (online.contact_id,)


def test_channel_cap_and_quiet_hours() -> None:
    night = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 22:00 in Guangzhou
    earlier = contact(night - 3 * D, Channel.OUTBOUND_CALL)
    late_call = contact(night, Channel.OUTBOUND_CALL)
    found = check_contact(late_call, customer(), [earlier], [], RULES)
    assert [(v.type, v.rule_id) for v in found] == [
        ("frequency_cap", "cap.outbound_call.7d"),
        ("quiet_hours", "quiet.21-09"),
    ]
    assert found[1].limit == "21:00-09:00"


def test_customer_wishes_are_reported_with_the_pinned_types() -> None:
    made = contact(NOW, Channel.SMS)
    who = customer(do_not_contact=True, consent_opt_out=(Channel.SMS,))
    assert [v.type for v in check_contact(made, who, [], [], RULES)] == [
        "do_not_contact",
        "sensitive_channel",
    ]
    sensitive = customer(sensitive_channels=(Channel.SMS,))
    assert [v.rule_id for v in check_contact(made, sensitive, [], [], RULES)] == [
        "sensitive.channel"
    ]


def test_pitching_a_declined_offer_too_soon_is_suppressed() -> None:
    pitch = (OfferReaction(offer_id="O0001", reaction=Reaction.DECLINE),)
    before = contact(NOW - 10 * D, Channel.STORE, reactions=pitch)
    again = contact(
        NOW, Channel.STORE, reactions=(OfferReaction(offer_id="O0001", reaction=Reaction.LATER),)
    )
    found = check_contact(again, customer(), [before], [], RULES)
    assert [(v.type, v.rule_id, v.limit) for v in found] == [
        ("suppressed", "cooldown.offer.30d", "30d")
    ]
    assert found[0].other_contact_ids == (before.contact_id,)


def test_contact_during_another_users_claim_is_flagged_with_the_holder() -> None:
    lease = claim("zhang", acquired=NOW - 10 * timedelta(minutes=1), until=NOW + H)
    made = contact(NOW, Channel.FIELD_VISIT, staff="li")
    found = check_contact(made, customer(), [], [lease], RULES)
    assert [(v.type, v.other_agent_id, v.claim_until) for v in found] == [
        ("claimed_by_other", "zhang", lease.lease_until)
    ]
    before_claim = contact(NOW - H, Channel.FIELD_VISIT, staff="li")
    assert check_contact(before_claim, customer(), [], [lease], RULES) == []
    own = contact(NOW, Channel.FIELD_VISIT, staff="zhang")
    assert check_contact(own, customer(), [], [lease], RULES) == []


def test_stale_fence_is_flagged_even_for_a_service_contact() -> None:
    service = contact(NOW, Channel.INBOUND_CALL, result=ResultCode.REACHED_NO_OFFER)
    found = check_contact(service, customer(), [], [], RULES, fence=3, current_fence=4)
    assert [(v.type, v.rule_id, v.limit) for v in found] == [("stale_fence", "claim.fence", ">=4")]
    assert check_contact(service, customer(), [], [], RULES, fence=4, current_fence=4) == []


def test_a_service_contact_never_breaks_marketing_rules() -> None:
    night = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    others = [contact(night - H, Channel.OUTBOUND_CALL), contact(night - 2 * H, Channel.SMS)]
    service = contact(night, Channel.INBOUND_CALL)
    assert check_contact(service, customer(do_not_contact=True), others, [], RULES) == []


def test_pitching_an_offer_never_declined_is_fine() -> None:
    accepted = (OfferReaction(offer_id="O0009", reaction=Reaction.ACCEPT),)
    made = contact(NOW, Channel.STORE, reactions=accepted)
    assert check_contact(made, customer(), [], [], RULES) == []


def test_rolling_windows_each_side_are_judged_separately() -> None:
    before = contact(NOW - 6 * D, Channel.SMS)
    after = contact(NOW + 6 * D, Channel.SMS)
    made = contact(NOW, Channel.FIELD_VISIT)
    assert check_contact(made, customer(), [before, after], [], RULES) == []
    crowded = contact(NOW + 5 * D, Channel.SMS)
    found = check_contact(made, customer(), [before, after, crowded], [], RULES)
    assert [(v.type, v.count_after) for v in found] == [("frequency_cap", 3)]
    assert found[0].other_contact_ids == (crowded.contact_id, after.contact_id)
