"""``POST /v1/sync/push``: dedupe, replay, scope, validation, conflicts and intents."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Engine, func, select

from agentdesk_sync.db import models as m

from .conftest import Api
from .pushing import batch, contact, day_time, intent


def _push(api: Api, user: str, *items: dict[str, Any]) -> dict[str, Any]:
    resp = api.post(user, "/v1/sync/push", batch(*items))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_contact_is_applied_with_staff_from_the_token(api: Api, sync_engine: Engine) -> None:
    item = contact("C00000001", staff_id="someone-else", note="想要流量包")
    body = _push(api, "cc1", item)
    (result,) = body["results"]
    assert result["status"] == "applied"
    assert result["server_seq"] == body["write_checkpoint"] > 0
    with sync_engine.connect() as conn:
        row = conn.execute(select(m.Contact).where(m.Contact.contact_id == item["id"])).one()
    assert row.staff_id == "cc1"
    assert row.server_seq == result["server_seq"]
    assert row.row["note"] == "想要流量包"


class _RawResults(msgspec.Struct):
    results: list[msgspec.Raw]


def test_replay_answers_duplicate_with_the_original_result(api: Api, sync_engine: Engine) -> None:
    first = contact("C00000002", started=day_time(2))
    second = contact("C00000002", started=day_time(1))  # breaks the 1/7d outbound cap
    resp1 = api.post("cc1", "/v1/sync/push", batch(first, second))
    resp2 = api.post("cc1", "/v1/sync/push", batch(first, second))
    original, replayed = resp1.json(), resp2.json()
    assert [r["status"] for r in replayed["results"]] == ["duplicate", "duplicate"]
    raw1 = msgspec.json.decode(resp1.content, type=_RawResults).results
    raw2 = msgspec.json.decode(resp2.content, type=_RawResults).results
    for before, after, r1, r2 in zip(
        original["results"], replayed["results"], raw1, raw2, strict=True
    ):
        assert {**after, "status": before["status"]} == before
        status = f'"status":"{before["status"]}"'.encode()
        assert bytes(r1).replace(status, b'"status":"duplicate"') == bytes(r2)
    assert original["results"][1]["status"] == "applied_with_conflict"
    assert replayed["write_checkpoint"] == original["write_checkpoint"]
    assert _count(sync_engine, m.Contact) == 2


def test_same_id_with_another_payload_is_idempotency_key_reuse(
    api: Api, sync_engine: Engine
) -> None:
    item = contact("C00000001")
    _push(api, "cc1", item)
    changed = {**item, "payload": {**item["payload"], "note": "changed"}}
    (result,) = _push(api, "cc1", changed)["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "idempotency_key_reuse"
    assert _count(sync_engine, m.Contact) == 1


def test_out_of_scope_is_rejected_and_nothing_is_stored(api: Api, sync_engine: Engine) -> None:
    before = _count(sync_engine, m.ChangeLog)
    results = _push(api, "cc1", contact("C00000003"), contact("C00000004", seq=2))["results"]
    assert [r["error"]["code"] for r in results] == ["out_of_scope", "out_of_scope"]
    assert _count(sync_engine, m.Contact) == 0
    assert _count(sync_engine, m.ChangeLog) == before
    (field,) = _push(api, "fa1", contact("C00000004", channel="field_visit"))["results"]
    assert field["error"]["code"] == "out_of_scope"


def test_invalid_payloads_name_the_fields(api: Api) -> None:
    missing = contact("C00000001")
    del missing["payload"]["result_code"]
    bad_enum = contact("C00000001", channel="pigeon", seq=2)
    unknown_kind = {**contact("C00000001", seq=3), "kind": "teleport"}
    bad_time = contact("C00000001", seq=4, started="yesterday")
    unknown_customer = contact("C99999999", seq=5)
    results = _push(api, "cc1", missing, bad_enum, unknown_kind, bad_time, unknown_customer)[
        "results"
    ]
    assert [r["status"] for r in results] == ["rejected"] * 5
    assert [r["error"]["code"] for r in results] == ["invalid_payload"] * 5
    assert "result_code" in results[0]["error"]["details"]["fields"]
    assert "channel" in results[1]["error"]["details"]["fields"]
    assert "kind" in results[2]["error"]["details"]["fields"]
    assert "started_at" in results[3]["error"]["details"]["fields"]
    assert "customer_id" in results[4]["error"]["details"]["fields"]


def test_supervisor_contacts_are_forbidden(api: Api) -> None:
    (result,) = _push(api, "sup", contact("C00000001"))["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "forbidden"


def test_items_run_in_seq_order_and_answer_in_request_order(api: Api) -> None:
    late = contact("C00000002", seq=9, started=day_time(1))
    early = contact("C00000002", seq=3, started=day_time(3))
    results = _push(api, "cc1", late, early)["results"]
    assert [r["id"] for r in results] == [late["id"], early["id"]]
    assert results[1]["server_seq"] < results[0]["server_seq"]
    assert results[1]["status"] == "applied"
    assert results[0]["status"] == "applied_with_conflict"


def test_frequency_cap_conflict_names_the_other_contact(api: Api) -> None:
    first = contact("C00000001", started=day_time(3))
    (r1,) = _push(api, "cc1", first)["results"]
    (r2,) = _push(api, "cc2", contact("C00000001", started=day_time(1)))["results"]
    assert r1["status"] == "applied"
    assert r2["status"] == "applied_with_conflict"
    conflict = r2["conflict"]
    assert conflict["type"] == "frequency_cap"
    assert conflict["rule_id"] == "cap.outbound_call.7d"
    assert conflict["limit"] == "1/7d"
    assert conflict["count_after"] == 2
    assert conflict["other"]["agent_id"] == "cc1"
    assert conflict["other"]["channel"] == "outbound_call"
    assert conflict["other"]["contact_ids"] == [first["id"]]
    assert conflict["server_time"].endswith("Z")


def test_contact_while_someone_else_holds_the_claim_is_claimed_by_other(api: Api) -> None:
    claim = api.post(
        "fa1",
        "/v1/claims",
        {"customer_id": "C00000003", "channel": "field_visit", "purpose": "visit_plan"},
    )
    assert claim.status_code == 201, claim.text
    pitched = contact("C00000003", channel="store", started=day_time(0, 0), campaign_id="K0001")
    pitched["payload"]["started_at"] = pitched["payload"]["ended_at"] = _now_iso()
    (result,) = _push(api, "st1", pitched)["results"]
    assert result["status"] == "applied_with_conflict"
    types = [r["code"] for r in result["conflict"]["reasons"]]
    assert "claimed_by_other" in types
    other = next(r for r in result["conflict"]["reasons"] if r["code"] == "claimed_by_other")
    assert other["rule_id"] == "claim.lease"


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def test_stale_fence_is_flagged_and_release_claim_frees_the_customer(api: Api) -> None:
    old = api.post(
        "cc1", "/v1/claims", {"customer_id": "C00000001", "channel": "inbound_call"}
    ).json()
    assert api.delete("cc1", f"/v1/claims/{old['claim_id']}").status_code == 204
    new = api.post("cc2", "/v1/claims", {"customer_id": "C00000001", "channel": "inbound_call"})
    assert new.status_code == 201
    assert new.json()["fence"] > old["fence"]
    late = contact(
        "C00000001", channel="inbound_call", claim_id=old["claim_id"], fence=old["fence"]
    )
    (result,) = _push(api, "cc1", late)["results"]
    assert result["status"] == "applied_with_conflict"
    assert result["conflict"]["type"] == "stale_fence"
    done = contact(
        "C00000001",
        channel="inbound_call",
        claim_id=new.json()["claim_id"],
        fence=new.json()["fence"],
    )
    (ok,) = _push(api, "cc2", done)["results"]
    assert ok["status"] == "applied"
    view = api.get("cc1", "/v1/customers/C00000001").json()
    assert view["active_claim"] is None
    again = api.post("cc1", "/v1/claims", {"customer_id": "C00000001", "channel": "inbound_call"})
    assert again.status_code == 201


def test_intents_are_applied_and_deduplicated(api: Api, sync_engine: Engine) -> None:
    callback = intent("callback", {"customer_id": "C00000001", "due_at": day_time(-1, 3)})
    feedback = intent(
        "feedback", {"customer_id": "C00000001", "panel": "attributes", "field": "name"}, seq=2
    )
    plan = intent("visit_plan", {"day": "2026-12-01", "customer_ids": ["C00000003"]}, seq=3)
    results = _push(api, "cc1", callback, feedback)["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    (planned,) = _push(api, "fa1", plan)["results"]
    assert planned["status"] == "applied"
    again = _push(api, "cc1", callback)["results"][0]
    assert again["status"] == "duplicate"
    assert _count(sync_engine, m.Intent) == 3
    assert _count(sync_engine, m.MutationReceipt) == 3


def test_callback_in_quiet_hours_is_rejected_with_reasons(api: Api, sync_engine: Engine) -> None:
    night = intent("callback", {"customer_id": "C00000001", "due_at": day_time(-1, 15)})  # 23:00
    (result,) = _push(api, "cc1", night)["results"]
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "policy_blocked"
    assert "quiet_hours" in [r["code"] for r in result["error"]["details"]["reasons"]]
    (replayed,) = _push(api, "cc1", night)["results"]
    assert replayed == result
    assert _count(sync_engine, m.Intent) == 0


def test_visit_plan_outside_the_portfolio_is_out_of_scope(api: Api) -> None:
    plan = intent("visit_plan", {"day": "2026-12-01", "customer_ids": ["C00000003", "C00000004"]})
    (result,) = _push(api, "fa1", plan)["results"]
    assert result["error"]["code"] == "out_of_scope"
    assert result["error"]["details"]["customer_ids"] == ["C00000004"]


def test_batch_limits_and_malformed_bodies(api: Api) -> None:
    too_many = batch(*[contact("C00000001", seq=i) for i in range(501)])
    resp = api.post("cc1", "/v1/sync/push", too_many)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"
    headers = {**api.headers("cc1"), "Content-Type": "application/json"}
    for raw in (b'{"device_id": "d", "items": [', b'{"device_id": "\xff\xfe", "items": []}', b"[]"):
        resp = api.client.post("/v1/sync/push", content=raw, headers=headers)
        assert resp.status_code == 422
        assert resp.json()["error"]["code"] == "invalid_request"
        assert resp.json()["error"]["details"]["fields"]
    huge = b'{"device_id": "' + b"x" * (3 * 1024 * 1024) + b'", "items": []}'
    resp = api.client.post("/v1/sync/push", content=huge, headers=headers)
    assert resp.status_code == 413


def test_empty_push_answers_the_current_high_water(api: Api) -> None:
    _push(api, "cc1", contact("C00000001"))
    body = _push(api, "cc1")
    assert body["results"] == []
    assert body["write_checkpoint"] >= 1
