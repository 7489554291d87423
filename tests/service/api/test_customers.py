"""Customer endpoints: unified view, search, merges, eligibility and recommendations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from agentdesk.domain import Campaign, Channel, TargetListEntry, VipLevel
from agentdesk.protocol import to_row
from agentdesk_sync.db import models as m

from .conftest import Api, insert_customer
from .pushing import batch, contact, day_time


def test_unified_view_has_every_block(api: Api) -> None:
    api.post("cc1", "/v1/sync/push", batch(contact("C00000001", started=day_time(2))))
    claim = api.post("cc1", "/v1/claims", {"customer_id": "C00000001", "channel": "inbound_call"})
    assert claim.status_code == 201
    view = api.get("cc2", "/v1/customers/C00000001").json()
    assert view["customer_id"] == "C00000001"
    assert view["attributes"]["region_code"] == "440100"
    assert {"value", "churn", "holdings", "usage", "open_orders"} <= set(view)
    (recent,) = view["recent_contacts"]
    assert recent["staff_id"] == "cc1"
    assert recent["result"]["status"] == "applied"
    assert view["active_claim"]["holder_id"] == "cc1"
    assert [c["campaign_id"] for c in view["campaigns"]] == ["K0001"]


def test_merged_ids_answer_the_kept_customer(api: Api, sync_engine: Engine) -> None:
    with sync_engine.begin() as conn:
        conn.execute(
            insert(m.CustomerRedirect).values(
                old_id="C00000077", new_id="C00000002", merged_at=datetime.now(UTC)
            )
        )
    view = api.get("cc1", "/v1/customers/C00000077").json()
    assert view["customer_id"] == "C00000002"
    assert view["redirected_from"] == "C00000077"
    assert api.get("st1", "/v1/customers/C00000077").status_code == 403


def test_search_by_msisdn_name_and_id_number_stays_in_scope(api: Api) -> None:
    exact = api.get("cc1", "/v1/customers", params={"msisdn": "13800000001"}).json()
    assert exact == {"items": [exact["items"][0]], "total": 1}
    assert exact["items"][0]["customer_id"] == "C00000001"
    prefix = api.get("cc1", "/v1/customers", params={"q": "1380000"}).json()
    assert sorted(i["customer_id"] for i in prefix["items"]) == ["C00000001", "C00000002"]
    assert prefix["total"] == 2
    by_name = api.get("st1", "/v1/customers", params={"q": "客户3"}).json()
    assert [i["customer_id"] for i in by_name["items"]] == ["C00000003"]
    by_id = api.get("sup", "/v1/customers", params={"q": "440101199001010004"}).json()
    assert [i["customer_id"] for i in by_id["items"]] == ["C00000004"]
    assert api.get("cc1", "/v1/customers", params={"msisdn": "13800000003"}).json()["total"] == 0
    missing = api.get("cc1", "/v1/customers")
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "invalid_request"


def test_search_hits_carry_the_vip_level_for_the_desktop_list(
    api: Api, sync_engine: Engine
) -> None:
    """While a desktop's cache fills, its search list comes from here and marks VIPs."""
    insert_customer(sync_engine, "C00000091", "440100", vip_level=VipLevel.GOLD)
    found = api.get("cc1", "/v1/customers", params={"q": "1380000009"}).json()
    levels = {i["customer_id"]: i["vip_level"] for i in found["items"]}
    assert levels == {"C00000091": "gold"}
    plain = api.get("cc1", "/v1/customers", params={"msisdn": "13800000001"}).json()
    assert plain["items"][0]["vip_level"] == "none"


def test_eligibility_counts_the_cap_across_channels(api: Api) -> None:
    url = "/v1/customers/C00000001/eligibility"
    fresh = api.get("cc1", url, params={"channel": "email"}).json()
    assert fresh["allowed"] is True
    assert fresh["outcome"] == "allowed"
    calls = [contact("C00000001", seq=i, started=day_time(d)) for i, d in ((1, 4), (2, 2))]
    api.post("cc2", "/v1/sync/push", batch(*calls))
    after = api.get("cc1", url, params={"channel": "email", "campaign_id": "K0001"}).json()
    assert after["allowed"] is False
    assert after["outcome"] == "deferred"
    assert after["deferred_until"].endswith("Z")
    assert "frequency_cap" in [r["code"] for r in after["reasons"]]
    assert after["budget"]["remaining"] == 0
    unknown = api.get("cc1", url, params={"channel": "email", "campaign_id": "K9"})
    assert unknown.status_code == 404
    bad = api.get("cc1", url, params={"channel": "pigeon"})
    assert bad.status_code == 422
    assert "channel" in bad.json()["error"]["details"]["fields"]


def test_recommendations_answer_the_pinned_shape(api: Api) -> None:
    resp = api.get(
        "cc1", "/v1/customers/C00000001/recommendations", params={"channel": "outbound_call"}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"items", "suppressed"}
    offers = [i["offer_id"] for i in body["items"]] + [s["offer_id"] for s in body["suppressed"]]
    assert offers == ["O0001"]
    for item in body["items"]:
        assert set(item) == {
            "offer_id",
            "campaign_id",
            "title",
            "score",
            "reasons",
            "script",
            "valid_until",
        }
    assert (
        api.get(
            "cc1", "/v1/customers/C00000003/recommendations", params={"channel": "store"}
        ).status_code
        == 403
    )


def test_eligibility_leaves_the_last_slot_to_the_higher_priority_campaign(
    api: Api, sync_engine: Engine
) -> None:
    now = datetime.now(UTC)
    with sync_engine.begin() as conn:
        for cid, priority in (("K_LO", 10), ("K_HI", 90)):
            campaign = Campaign(
                campaign_id=cid,
                name=f"活动{cid}",
                channels=(Channel.EMAIL,),
                strategy="upsell",
                target_group="all",
                valid_from=now - timedelta(days=3),
                valid_to=now + timedelta(days=30),
                created_at=now - timedelta(days=3),
                priority=priority,
            )
            target = TargetListEntry(customer_id="C00000002", campaign_id=cid)
            conn.execute(
                insert(m.Campaign).values(campaign_id=cid, row=to_row(campaign), row_seq=0)
            )
            conn.execute(
                insert(m.TargetMember).values(
                    campaign_id=cid, customer_id="C00000002", row=to_row(target), row_seq=0
                )
            )
    # one marketing contact two days ago: one slot of "2 in 7 days" is left
    api.post("cc2", "/v1/sync/push", batch(contact("C00000002", started=day_time(2))))
    url = "/v1/customers/C00000002/eligibility"
    low = api.get("cc1", url, params={"channel": "email", "campaign_id": "K_LO"}).json()
    assert low["outcome"] == "deferred"
    (priority,) = [r for r in low["reasons"] if r["code"] == "priority"]
    assert priority["detail"]["campaign_id"] == "K_HI"
    high = api.get("cc1", url, params={"channel": "email", "campaign_id": "K_HI"}).json()
    assert high["outcome"] == "allowed"
