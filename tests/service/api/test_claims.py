"""Claims: grant, idempotent re-claim, conflicts, renew, release, fences and races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Engine

from .conftest import GZ, Api, LiveServer, add_user, insert_customer


def _claim(api: Api, user: str, customer: str = "C00000001", **kw: object) -> httpx.Response:
    body = {
        "customer_id": customer,
        "channel": "inbound_call",
        "purpose": "contact",
        "ttl_s": 900,
        **kw,
    }
    resp: httpx.Response = api.post(user, "/v1/claims", body)
    return resp


def _feed(api: Api, user: str, cursor: str = "") -> tuple[list[dict[str, Any]], str]:
    """Every change the user's pull feed holds after ``cursor``, and the new cursor."""
    changes: list[dict[str, Any]] = []
    for _ in range(100):
        page = api.get(user, "/v1/sync/pull", params={"cursor": cursor, "limit": 1000}).json()
        changes += page["changes"]
        cursor = page["cursor"]
        if page["up_to_date"]:
            return changes, cursor
    raise AssertionError("the feed never became up to date")


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_grant_reclaim_conflict_renew_release(api: Api) -> None:
    first = _claim(api, "cc1")
    assert first.status_code == 201
    granted = first.json()
    assert set(granted) >= {"claim_id", "fence", "lease_until", "server_now"}
    again = _claim(api, "cc1")
    assert again.status_code == 200
    assert (again.json()["claim_id"], again.json()["fence"]) == (
        granted["claim_id"],
        granted["fence"],
    )
    taken = _claim(api, "cc2")
    assert taken.status_code == 409
    error = taken.json()["error"]
    assert error["code"] == "claimed"
    assert error["details"]["holder"]["user_id"] == "cc1"
    assert error["details"]["holder"]["channel"] == "inbound_call"
    assert error["details"]["holder"]["lease_until"].endswith("Z")
    renewed = api.post("cc1", f"/v1/claims/{granted['claim_id']}/renew", {"ttl_s": 1800})
    assert renewed.status_code == 200
    assert renewed.json()["fence"] == granted["fence"]
    assert _ts(renewed.json()["lease_until"]) > _ts(granted["lease_until"])
    assert api.delete("cc1", f"/v1/claims/{granted['claim_id']}").status_code == 204
    assert api.delete("cc1", f"/v1/claims/{granted['claim_id']}").status_code == 204
    lost = api.post("cc1", f"/v1/claims/{granted['claim_id']}/renew", {"ttl_s": 60})
    assert lost.status_code == 409
    assert lost.json()["error"]["code"] == "lease_lost"
    second = _claim(api, "cc2")
    assert second.status_code == 201
    assert second.json()["fence"] > granted["fence"]
    assert second.json()["claim_id"] != granted["claim_id"]


def test_renew_by_someone_else_or_superseded_holder_is_lease_lost(api: Api) -> None:
    granted = _claim(api, "cc1").json()
    other = api.post("cc2", f"/v1/claims/{granted['claim_id']}/renew", {"ttl_s": 60})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "lease_lost"


def test_ttl_is_capped_at_two_hours(api: Api) -> None:
    body = _claim(api, "cc1", ttl_s=10 * 3600).json()
    assert (_ts(body["lease_until"]) - _ts(body["server_now"])).total_seconds() <= 2 * 3600


def test_visit_plan_preclaims_may_last_twelve_hours(api: Api) -> None:
    body = api.post(
        "fa1",
        "/v1/claims",
        {
            "customer_id": "C00000003",
            "channel": "field_visit",
            "purpose": "visit_plan",
            "ttl_s": 20 * 3600,
        },
    ).json()
    span = (_ts(body["lease_until"]) - _ts(body["server_now"])).total_seconds()
    assert 2 * 3600 < span <= 12 * 3600


def test_scope_and_unknown_customers(api: Api) -> None:
    assert _claim(api, "cc1", customer="C00000003").status_code == 403
    assert _claim(api, "fa1", customer="C00000004", channel="field_visit").status_code == 403
    missing = _claim(api, "cc1", customer="C99999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    bad = _claim(api, "cc1", channel="pigeon")
    assert bad.status_code == 422
    assert "channel" in bad.json()["error"]["details"]["fields"]


def test_policy_blocked_claim_carries_the_reasons(api: Api, sync_engine: Engine) -> None:
    insert_customer(sync_engine, "C00000009", GZ, do_not_contact=True)
    resp = _claim(api, "cc1", customer="C00000009", channel="outbound_call")
    assert resp.status_code == 409
    error = resp.json()["error"]
    assert error["code"] == "policy_blocked"
    assert "do_not_contact" in [r["code"] for r in error["details"]["reasons"]]


def test_claims_show_in_the_customer_view(api: Api) -> None:
    granted = _claim(api, "cc1").json()
    view = api.get("cc2", "/v1/customers/C00000001").json()
    assert view["active_claim"]["claim_id"] == granted["claim_id"]
    assert view["active_claim"]["holder_id"] == "cc1"


def test_racing_claimers_get_exactly_one_holder_and_growing_fences(
    live: LiveServer, sync_engine: Engine, password_hashes: dict[str, str]
) -> None:
    users = [f"race{i}" for i in range(12)]
    for user in users:
        add_user(sync_engine, user, "call_centre", [GZ], password_hashes["cc1"])
    fences: list[int] = []
    with (
        httpx.Client(base_url=live.url, timeout=30) as client,
        ThreadPoolExecutor(len(users)) as pool,
    ):

        def claim(user: str) -> httpx.Response:
            body = {"customer_id": "C00000002", "channel": "inbound_call", "ttl_s": 600}
            return client.post(
                "/v1/claims", json=body, headers={"Authorization": f"Bearer tok-{user}"}
            )

        for _round in range(4):
            answers = list(pool.map(claim, users))
            winners = [(u, r) for u, r in zip(users, answers, strict=True) if r.status_code == 201]
            assert len(winners) == 1, [r.status_code for r in answers]
            assert {r.status_code for r in answers} == {201, 409}
            user, resp = winners[0]
            holder = {
                r.json()["error"]["details"]["holder"]["user_id"]
                for r in answers
                if r.status_code == 409
            }
            assert holder == {user}
            fences.append(resp.json()["fence"])
            headers = {"Authorization": f"Bearer tok-{user}"}
            assert (
                client.delete(f"/v1/claims/{resp.json()['claim_id']}", headers=headers).status_code
                == 204
            )
    assert fences == sorted(set(fences))


def test_claim_renew_release_reach_colleagues_of_the_region_only(api: Api) -> None:
    _, cc2_cursor = _feed(api, "cc2")
    _, st1_cursor = _feed(api, "st1")
    granted = _claim(api, "cc1").json()
    assert api.post("cc1", f"/v1/claims/{granted['claim_id']}/renew", {"ttl_s": 600}).is_success
    assert api.delete("cc1", f"/v1/claims/{granted['claim_id']}").status_code == 204
    store = _claim(api, "st1", customer="C00000004").json()
    assert api.delete("st1", f"/v1/claims/{store['claim_id']}").status_code == 204
    seen, _ = _feed(api, "cc2", cc2_cursor)
    claims = [(c["op"], c["id"]) for c in seen if c["entity"] == "claim"]
    assert claims == [("put", "C00000001"), ("put", "C00000001"), ("remove", "C00000001")]
    assert seen[0]["row"]["holder_id"] == "cc1"
    assert seen[0]["row"]["fence"] == granted["fence"]
    other_region, _ = _feed(api, "st1", st1_cursor)
    claims = [(c["op"], c["id"]) for c in other_region if c["entity"] == "claim"]
    assert claims == [("put", "C00000004"), ("remove", "C00000004")]
