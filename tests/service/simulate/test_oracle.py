"""The simulation's oracle agrees with the server's push check on the default rules."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdesk.domain import Channel, Contact, OfferReaction, Reaction, ResultCode
from agentdesk.policy import check_contact, default_rules
from agentdesk_sync.simulate import oracle_conflicts
from tests.unit.policy.factories import NOW, contact, customer

RULES = default_rules()
CHANNELS = [Channel.OUTBOUND_CALL, Channel.SMS, Channel.FIELD_VISIT, Channel.STORE]


@st.composite
def ledgers(draw: st.DrawFn) -> list[Contact]:
    out = []
    for _ in range(draw(st.integers(0, 6))):
        minutes = draw(st.integers(-9 * 1440, 0))
        reaction = draw(st.sampled_from([None, Reaction.DECLINE, Reaction.LATER]))
        out.append(
            contact(
                NOW + timedelta(minutes=minutes),
                draw(st.sampled_from([*CHANNELS, Channel.INBOUND_CALL])),
                result=draw(
                    st.sampled_from(
                        [ResultCode.REACHED_NO_OFFER, ResultCode.DO_NOT_CONTACT_REQUESTED]
                    )
                ),
                campaign_id=draw(st.sampled_from([None, "K0001"])),
                reactions=(OfferReaction(offer_id="O1", reaction=reaction),) if reaction else (),
            )
        )
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(ledgers(), st.sampled_from(CHANNELS), st.integers(-600, 600), st.booleans())
def test_oracle_flags_exactly_what_check_contact_flags(prior, channel, minutes, pitch) -> None:
    reactions = (OfferReaction(offer_id="O1", reaction=Reaction.LATER),) if pitch else ()
    made = contact(NOW + timedelta(minutes=minutes), channel, reactions=reactions)
    who = customer()
    server = {v.type for v in check_contact(made, who, prior, [], RULES)}
    assert oracle_conflicts(made, prior, who) == server


def test_oracle_knows_the_customers_wishes() -> None:
    made = contact(NOW, Channel.SMS)
    who = customer(do_not_contact=True, consent_opt_out=(Channel.SMS,))
    assert oracle_conflicts(made, [], who) == {"do_not_contact", "sensitive_channel"}
    service = contact(NOW, Channel.INBOUND_CALL)
    assert oracle_conflicts(service, [], who) == set()
