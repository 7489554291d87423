"""Property tests: the policy never allows what a rule forbids, and defers to the exact instant.

An independent brute-force oracle (:mod:`tests.unit.policy.oracle`) decides the cap, gap,
quiet-hours and claim rules. Histories mix past and future contacts (offline contacts pushed
late), claims of other users, and clock movements.

Definition tested for a deferral: ``deferred_until`` is the least instant ``t >= now`` at which no
deferring rule (caps, gap, quiet hours) fires, the history being unchanged. So at
``deferred_until - 1 µs`` (and at every instant in ``[now, deferred_until)``) the contact is not
allowed, and at ``deferred_until`` it is allowed, unless a claim of another user that was acquired
after ``now`` covers that instant (claims block while their lease lasts; they never defer).
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdesk.domain import Channel, Claim, Contact, OfferReaction, Reaction, ResultCode
from agentdesk.policy import Outcome, check_contact, default_rules, evaluate
from tests.unit.policy.factories import NOW, contact, customer
from tests.unit.policy.oracle import DEFERRING, forbidden

RULES = default_rules()
CUSTOMER = customer()
CID = CUSTOMER.customer_id
ME = "me"
TINY = timedelta(microseconds=1)
CHANNELS = [Channel.OUTBOUND_CALL, Channel.SMS, Channel.FIELD_VISIT, Channel.STORE]
HISTORY_CHANNELS = [*CHANNELS, Channel.INBOUND_CALL]
_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def cases(n: int) -> settings:
    """``n`` generated cases, no deadline (the first zoneinfo load is slow)."""
    return settings(max_examples=n, deadline=None, suppress_health_check=_HEALTH)


minutes = st.integers(min_value=-10 * 1440, max_value=2 * 1440)


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    """A past or future contact of the customer (some of another customer)."""
    at = NOW + timedelta(minutes=draw(minutes))
    pitched = draw(st.booleans())
    reactions = (
        (OfferReaction(offer_id="O0001", reaction=Reaction.LATER),)
        if draw(st.booleans()) and not pitched
        else ()
    )
    return contact(
        at,
        draw(st.sampled_from(HISTORY_CHANNELS)),
        result=draw(st.sampled_from([ResultCode.REACHED_NO_OFFER, ResultCode.NOT_REACHED_BUSY])),
        campaign_id="K0001" if pitched else None,
        reactions=reactions,
        staff=draw(st.sampled_from([ME, "other"])),
        customer_id=draw(st.sampled_from([CID, CID, CID, "C00000002"])),
    )


@st.composite
def claims(draw: st.DrawFn) -> Claim:
    """A claim of this user or another, starting and ending around now."""
    start = NOW + timedelta(minutes=draw(st.integers(-600, 600)))
    return Claim(
        claim_id=f"L{draw(st.integers(0, 10**6))}",
        customer_id=CID,
        holder_id=draw(st.sampled_from([ME, "other"])),
        channel=Channel.OUTBOUND_CALL,
        fence=1,
        lease_until=start + timedelta(minutes=draw(st.integers(1, 240))),
        acquired_at=start if draw(st.booleans()) else None,
    )


histories = st.lists(contacts(), max_size=8)
claim_lists = st.lists(claims(), max_size=2)
clock = st.integers(min_value=-3 * 1440, max_value=3 * 1440).map(
    lambda m: NOW + timedelta(minutes=m)
)


@cases(300)
@given(histories, claim_lists, st.sampled_from(CHANNELS), clock)
def test_evaluate_says_exactly_what_the_oracle_says(history, leases, channel, now) -> None:
    decision = evaluate(CUSTOMER, channel, None, history, leases, RULES, now, user_id=ME)
    expected = forbidden(CID, channel, history, leases, ME, now)
    assert decision.allowed == (not expected)
    assert set(decision.codes) == expected
    if "claimed_by_other" in expected:
        assert decision.outcome is Outcome.BLOCKED
    elif expected:
        assert decision.outcome is Outcome.DEFERRED


@cases(250)
@given(
    histories, claim_lists, st.sampled_from(CHANNELS), clock, st.lists(st.floats(0, 1), max_size=6)
)
def test_deferred_until_is_the_first_instant_every_rule_is_satisfied(
    history, leases, channel, now, probes
) -> None:
    decision = evaluate(CUSTOMER, channel, None, history, leases, RULES, now, user_id=ME)
    if decision.outcome is not Outcome.DEFERRED:
        return
    free = decision.deferred_until
    assert free is not None
    assert free > now
    before = evaluate(CUSTOMER, channel, None, history, leases, RULES, free - TINY, user_id=ME)
    assert not before.allowed
    at = evaluate(CUSTOMER, channel, None, history, leases, RULES, free, user_id=ME)
    assert at.allowed or set(at.codes) == {"claimed_by_other"}
    assert not forbidden(CID, channel, history, leases, ME, free) & DEFERRING
    for share in probes:
        probe = now + (free - now) * share
        if probe < free:
            assert forbidden(CID, channel, history, leases, ME, probe) & DEFERRING


@cases(150)
@given(st.data(), histories, claim_lists, st.sampled_from(CHANNELS), clock)
def test_decisions_do_not_depend_on_history_order(data, history, leases, channel, now) -> None:
    shuffled = data.draw(st.permutations(history))
    first = evaluate(CUSTOMER, channel, None, history, leases, RULES, now, user_id=ME)
    again = evaluate(CUSTOMER, channel, None, history, leases, RULES, now, user_id=ME)
    assert first == again
    assert evaluate(CUSTOMER, channel, None, shuffled, leases, RULES, now, user_id=ME) == first
    proposed = contact(now, channel, campaign_id="K0001", staff=ME, contact_id="PROPOSED")
    assert check_contact(proposed, CUSTOMER, shuffled, leases, RULES) == check_contact(
        proposed, CUSTOMER, history, leases, RULES
    )


@cases(250)
@given(histories, claim_lists, st.sampled_from(CHANNELS), clock)
def test_push_check_flags_exactly_what_evaluate_would_have_refused(
    history, leases, channel, now
) -> None:
    proposed = contact(now, channel, campaign_id="K0001", staff=ME, contact_id="PROPOSED")
    found = {v.type for v in check_contact(proposed, CUSTOMER, history, leases, RULES)}
    expected = forbidden(CID, channel, history, leases, ME, now)
    renamed = {"frequency_cap" if code == "channel_cap" else code for code in expected}
    assert found == renamed


steps = st.lists(
    st.tuples(
        st.integers(1, 36 * 60),  # minutes the clock moves
        st.sampled_from(CHANNELS),
        st.sampled_from([ME, "other"]),
        st.one_of(st.none(), st.integers(-48 * 60, -1)),  # an offline contact arriving late
    ),
    max_size=25,
)


@cases(120)
@given(steps)
def test_no_sequence_of_contacts_and_clock_moves_lets_a_violation_through(moves) -> None:
    ledger: list[Contact] = []
    leases: list[Claim] = []
    now = NOW
    for minutes_on, channel, agent, offline in moves:
        now += timedelta(minutes=minutes_on)
        if offline is not None:  # another device pushes an old contact, policy or not
            ledger.append(contact(now + timedelta(minutes=offline), Channel.FIELD_VISIT, staff="x"))
        decision = evaluate(CUSTOMER, channel, None, ledger, leases, RULES, now, user_id=agent)
        refused = forbidden(CID, channel, ledger, leases, agent, now)
        assert decision.allowed == (not refused)
        if decision.allowed:
            made = contact(now, channel, campaign_id="K0001", staff=agent)
            assert check_contact(made, CUSTOMER, ledger, leases, RULES) == []
            ledger.append(made)
            leases.append(
                Claim(
                    claim_id=f"L{len(leases)}",
                    customer_id=CID,
                    holder_id=agent,
                    channel=channel,
                    fence=len(leases) + 1,
                    acquired_at=now,
                    lease_until=now + timedelta(minutes=30),
                )
            )
