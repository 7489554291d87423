"""The outbound call list: who to call first, who comes back when, who is out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentdesk.domain import Channel, OfferReaction, Reaction, ResultCode
from agentdesk.policy import default_rules
from agentdesk.recommend import CallListEntry, call_list_score, rank_call_list
from tests.unit.policy.factories import NOW, claim, contact, customer

RULES = default_rules()
D = timedelta(days=1)


def test_customers_who_answer_and_buy_score_higher() -> None:
    fan = customer(customer_id="C1", channel_preference=(Channel.OUTBOUND_CALL,))
    # Reached twice at 11:00 local (03:00 UTC) in the past weeks, bought once.
    history = [
        contact(NOW - 20 * D, customer_id="C1", result=ResultCode.REACHED_ACCEPTED),
        contact(NOW - 40 * D, customer_id="C1", result=ResultCode.REACHED_CALLBACK),
        contact(NOW - 60 * D, customer_id="C1", result=ResultCode.NOT_REACHED_BUSY),
    ]
    score = call_list_score(fan, history, NOW, rules=RULES)
    assert score.best_hour == 11
    assert (score.attempts, score.reach_rate, score.sale_rate) == (3, 0.667, 0.5)
    assert score.result_score == round(10 / 3, 3)
    assert score.prefers_phone
    assert score.score == round(40 * (10 / 3) / 5 + 25 * 2 / 3 + 20 * 0.5 + 10 + 5, 3)
    stranger = call_list_score(customer(customer_id="C2"), [], NOW)
    assert (stranger.best_hour, stranger.reach_rate, stranger.sale_rate) == (None, 0.5, 0.0)
    assert stranger.score == 24 + 12.5
    assert score.score > stranger.score


def test_recent_unanswered_attempts_lower_the_score_and_never_below_zero() -> None:
    misses = [
        contact(NOW - timedelta(hours=h), customer_id="C1", result=ResultCode.NOT_REACHED_NO_ANSWER)
        for h in range(1, 12)
    ]
    score = call_list_score(customer(customer_id="C1"), misses, NOW, rules=RULES)
    assert score.score == 0.0
    pitched_inbound = contact(
        NOW - 3 * D,
        Channel.INBOUND_CALL,
        customer_id="C1",
        reactions=(OfferReaction(offer_id="O1", reaction=Reaction.ACCEPT),),
    )
    assert call_list_score(customer(customer_id="C1"), [pitched_inbound], NOW).sale_rate == 1.0


def test_ranking_skips_blocked_and_says_when_deferred_ones_return() -> None:
    busy = customer(customer_id="C1")
    called = contact(NOW - 2 * D, customer_id="C1")
    keen = customer(customer_id="C2")
    keen_history = (contact(NOW - 30 * D, customer_id="C2", result=ResultCode.REACHED_ACCEPTED),)
    fresh = customer(customer_id="C3")
    refused = customer(customer_id="C4", do_not_contact=True)
    held = customer(customer_id="C5")
    entries = [
        CallListEntry(customer=busy, history=(called,)),
        CallListEntry(customer=fresh),
        CallListEntry(customer=refused),
        CallListEntry(customer=keen, history=keen_history),
        CallListEntry(customer=held),
    ]
    lease = claim("zhang", customer_id="C5")
    ranked = rank_call_list(entries, [lease], RULES, NOW, user_id="li")
    assert [e.customer.customer_id for e, _ in ranked.ready] == ["C2", "C3"]
    assert [(e.customer.customer_id, d.deferred_until) for e, d in ranked.deferred] == [
        ("C1", called.started_at + 7 * D)
    ]
    assert [(e.customer.customer_id, d.codes) for e, d in ranked.blocked] == [
        ("C4", ("do_not_contact",)),
        ("C5", ("claimed_by_other",)),
    ]


def test_best_hour_is_the_local_hour_with_most_reached_contacts() -> None:
    morning = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # 10:00 local
    evening = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)  # 19:00 local
    history = [
        contact(morning, customer_id="C1"),
        contact(evening, customer_id="C1"),
        contact(evening + D, customer_id="C1"),
    ]
    assert call_list_score(customer(customer_id="C1"), history, NOW).best_hour == 19
