"""Claims over real HTTP: a held customer is refused to others with who holds it; the outcome
releases the claim; a write under a superseded claim is flagged, never lost; a field account
manager pre-claims a visit list before going offline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from agentdesk.domain import Channel, Contact, ResultCode
from agentdesk.store.outbox import get_entry, record_outcome
from agentdesk.sync import Claimed, ClaimManager, HeldClaim, PolicyBlocked
from tests.integration.conftest import Central, Client
from tests.reliability.world import ledger


def _call(client: Client, customer: str, claim: HeldClaim | None) -> str:
    started = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
    day_before = started - timedelta(days=1)
    contact = Contact(
        contact_id="", customer_id=customer, channel=Channel.OUTBOUND_CALL, started_at=day_before,
        ended_at=day_before + timedelta(minutes=5), result_code=ResultCode.REACHED_NO_OFFER,
        staff_id="", note="call",
    )  # fmt: skip
    claim_id, fence = (claim.claim_id, claim.fence) if claim else (None, None)
    with client.db.writer() as conn:
        entry = record_outcome(conn, contact, claim_id=claim_id, fence=fence, device_id=client.name)
    return entry.id


def test_a_held_customer_is_refused_then_released_by_the_outcome(
    central: Central, make_client: Callable[[str, str], Client]
) -> None:
    a, b = make_client("a", "cc1"), make_client("b", "cc2")
    customer = central.customers[0]
    claims_a, claims_b = ClaimManager(a.api), ClaimManager(b.api)
    held = claims_a.acquire(customer, "outbound_call")
    assert claims_a.renew(held).fence == held.fence
    with pytest.raises(Claimed) as refused:
        claims_b.acquire(customer, "outbound_call")
    assert refused.value.holder["user_id"] == "cc1"

    contact_id = _call(a, customer, held)
    assert a.engine.run_once().acked == 1
    assert [r.status for r in ledger(central.db_url) if r.contact_id == contact_id] == ["applied"]
    with pytest.raises(PolicyBlocked) as blocked:  # the claim is gone; the call used the cap
        claims_b.acquire(customer, "outbound_call")
    assert blocked.value.reasons


def test_a_contact_under_a_superseded_claim_is_kept_and_flagged(
    central: Central, make_client: Callable[[str, str], Client]
) -> None:
    a, b = make_client("a", "cc1"), make_client("b", "cc2")
    customer = central.customers[1]
    stale = ClaimManager(a.api).acquire(customer, "outbound_call")
    ClaimManager(a.api).release(stale)
    ClaimManager(b.api).acquire(customer, "outbound_call")

    contact_id = _call(a, customer, stale)
    report = a.engine.run_once()
    assert report.conflicts == 1
    assert report.rejected == 0
    with a.db.reader() as conn:
        entry = get_entry(conn, contact_id)
    assert entry is not None
    assert entry.state == "conflict"
    assert entry.result is not None
    assert entry.result["conflict"]["type"] in ("stale_fence", "claimed_by_other")
    assert [r.contact_id for r in ledger(central.db_url)] == [contact_id]


def test_a_field_manager_pre_claims_the_visit_list(
    central: Central, make_client: Callable[[str, str], Client]
) -> None:
    cc, other = make_client("cc", "cc1"), make_client("other", "cc2")
    visits = central.customers[2:5]
    ClaimManager(other.api).acquire(visits[1], "outbound_call")
    result = ClaimManager(cc.api).preclaim_visits(visits, "outbound_call", hours=8)
    assert [c.customer_id for c in result.held] == [visits[0], visits[2]]
    assert list(result.refused) == [visits[1]]
    assert {c.ttl_s for c in result.held} == {8 * 3600}
