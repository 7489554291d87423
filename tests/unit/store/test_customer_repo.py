"""Opening a customer: view, holdings, usage, contacts of every channel, freshness."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentdesk.domain import Channel
from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes
from agentdesk.store.customer_repo import (
    load_customer_view,
    load_history,
    load_offers_and_campaigns,
    load_rules,
)
from agentdesk.store.outbox import record_outcome
from tests.unit.store.conftest import T0, make_contact, world_changes


@pytest.fixture
def world(db: CacheDB) -> CacheDB:
    with db.sync_writer() as s:
        apply_changes(s, world_changes(), "c", True)
    return db


def test_customer_view_has_everything_the_screen_shows(world: CacheDB) -> None:
    with world.writer() as w:
        local = record_outcome(w, make_contact(minutes=120, channel=Channel.FIELD_VISIT))
    with world.reader() as r:
        bundle = load_customer_view(r, "C00000001")
    assert bundle is not None
    assert bundle.view.attributes.name == "张三"
    assert bundle.view.value.value_tier == 2
    assert [u.month for u in bundle.view.usage] == ["2026-10", "2026-09"]
    assert bundle.usage_as_of == "2026-10"
    assert [c.channel for c in bundle.contacts] == [
        Channel.FIELD_VISIT, Channel.STORE, Channel.OUTBOUND_CALL,
    ]  # fmt: skip
    assert bundle.unsynced_contact_ids == {local.id}
    assert bundle.contact_results["k2"]["conflict"]["type"] == "frequency_cap"
    assert [o.order_id for o in bundle.orders] == ["M1"]
    assert [t.campaign_id for t in bundle.targets] == ["K0001"]
    assert [c.name for c in bundle.campaigns] == ["5G upgrade"]
    assert bundle.synced_at is not None
    assert bundle.active_claim is None


def test_merged_away_id_opens_the_kept_customer(world: CacheDB) -> None:
    with world.reader() as r:
        bundle = load_customer_view(r, "C00000009")
        missing = load_customer_view(r, "C99999999")
    assert bundle is not None
    assert bundle.view.customer_id == "C00000001"
    assert missing is None


def test_holdings_offers_campaigns_rules_history(world: CacheDB) -> None:
    with world.reader() as r:
        holder = load_customer_view(r, "C00000003")
        offers, campaigns = load_offers_and_campaigns(r)
        rules = load_rules(r)
        history = load_history(r, "C00000001", since=T0 + timedelta(minutes=30))
    assert holder is not None
    assert [h.product_code for h in holder.view.holdings] == ["P5G"]
    assert [o.offer_id for o in offers] == ["O0001"]
    assert [c.campaign_id for c in campaigns] == ["K0001"]
    assert rules is not None
    assert (rules.version, rules.rules) == (3, {"v": 3})
    assert [c.contact_id for c in history] == ["k2"]
