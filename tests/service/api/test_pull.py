"""``GET /v1/sync/pull``: snapshot pages, resume, change feed, scope and resets."""

from __future__ import annotations

import base64
import csv
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Text, cast, insert, select, text, update

from agentdesk.protocol import usage_row
from agentdesk_sync.db import models as m
from agentdesk_sync.importers import run_import
from agentdesk_sync.merge import merge_customers

from .conftest import GZ, SH, Api, add_user, insert_customer
from .pushing import batch, contact, day_time


def _pull(api: Api, user: str, cursor: str = "", limit: int = 1000) -> dict[str, Any]:
    resp = api.get(user, "/v1/sync/pull", params={"cursor": cursor, "limit": limit})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _drain(
    api: Api, user: str, cursor: str = "", limit: int = 1000
) -> tuple[list[dict[str, Any]], str, list[dict[str, Any]]]:
    changes, pages = [], []
    for _ in range(100):
        page = _pull(api, user, cursor, limit)
        pages.append(page)
        changes += page["changes"]
        cursor = page["cursor"]
        if page["up_to_date"]:
            return changes, cursor, pages
    raise AssertionError("the feed never became up to date")


def _keys(changes: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(c["entity"], c["id"]) for c in changes}


def test_snapshot_then_changes_for_a_call_centre_agent(api: Api) -> None:
    api.post("cc1", "/v1/sync/push", batch(contact("C00000001", started=day_time(2))))
    changes, cursor, pages = _drain(api, "cc1")
    keys = _keys(changes)
    assert {("customer", "C00000001"), ("customer", "C00000002")} <= keys
    assert ("customer", "C00000003") not in keys
    assert {("campaign", "K0001"), ("offer", "O0001"), ("target", "K0001:C00000001")} <= keys
    assert any(e == "rule_set" for e, _ in keys)
    assert any(e == "contact" for e, _ in keys)
    assert pages[0]["progress"] == {"done": 2, "total": 2}
    item = contact("C00000002", started=day_time(1))
    pushed = api.post("cc2", "/v1/sync/push", batch(item)).json()
    page = _pull(api, "cc1", cursor)
    (change,) = page["changes"]
    assert change["entity"] == "contact"
    assert change["id"] == item["id"]
    assert change["seq"] == pushed["write_checkpoint"]
    assert change["row"]["staff_id"] == "cc2"
    assert change["row"]["result"]["status"] == "applied"
    assert page["up_to_date"] is True
    assert _pull(api, "cc1", page["cursor"])["changes"] == []


def test_snapshot_pages_resume_from_their_cursor(api: Api) -> None:
    first = _pull(api, "sup", limit=4)
    assert first["up_to_date"] is False
    assert first["progress"]["total"] == 4
    second = _pull(api, "sup", first["cursor"], limit=4)
    again = _pull(api, "sup", first["cursor"], limit=4)
    assert second == again
    changes, _cursor, _pages = _drain(api, "sup", first["cursor"], limit=4)
    customers = [c["id"] for c in first["changes"] + changes if c["entity"] == "customer"]
    assert customers == ["C00000001", "C00000002", "C00000003", "C00000004"]


def test_a_two_region_agent_pages_through_both_regions_in_id_order(
    api: Api, sync_engine: Engine, password_hashes: dict[str, str]
) -> None:
    for cid, region in {"C00000005": "330100", "C00000006": SH, "C00000007": GZ}.items():
        insert_customer(sync_engine, cid, region)
    add_user(sync_engine, "cc9", "call_centre", [SH, GZ], password_hashes["cc1"])
    changes, _cursor, pages = _drain(api, "cc9", limit=1)
    customers = [c["id"] for c in changes if c["entity"] == "customer"]
    assert customers == ["C00000001", "C00000002", "C00000003", "C00000004", "C00000006",
                         "C00000007"]  # fmt: skip
    assert pages[0]["progress"]["total"] == 6


def test_field_user_pulls_only_the_portfolio(api: Api) -> None:
    changes, cursor, _ = _drain(api, "fa1")
    assert {cid for e, cid in _keys(changes) if e == "customer"} == {"C00000003"}
    api.post("cc1", "/v1/sync/push", batch(contact("C00000001")))
    mine = contact("C00000003", channel="store", started=day_time(1))
    api.post("st1", "/v1/sync/push", batch(mine))
    feed, _cursor, _ = _drain(api, "fa1", cursor)
    assert [c["id"] for c in feed] == [mine["id"]]


def test_claims_appear_in_the_feed(api: Api) -> None:
    _changes, cursor, _ = _drain(api, "cc2")
    granted = api.post(
        "cc1", "/v1/claims", {"customer_id": "C00000001", "channel": "inbound_call"}
    ).json()
    api.delete("cc1", f"/v1/claims/{granted['claim_id']}")
    feed, _cursor, _ = _drain(api, "cc2", cursor)
    assert [(c["entity"], c["op"], c["id"]) for c in feed] == [
        ("claim", "put", "C00000001"),
        ("claim", "remove", "C00000001"),
    ]
    assert feed[0]["row"]["holder_id"] == "cc1"
    assert feed[0]["row"]["fence"] == granted["fence"]


def _forge(cursor: str, **changes: Any) -> str:
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data.update(changes)
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "bad", ["%%%", "bm90IGpzb24", base64.urlsafe_b64encode(b'{"s": 1}').decode()]
)
def test_unparseable_cursor_is_400(api: Api, bad: str) -> None:
    resp = api.get("cc1", "/v1/sync/pull", params={"cursor": bad})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid_cursor"


def test_foreign_or_expired_cursor_is_reset_required(api: Api, sync_engine: Engine) -> None:
    _changes, cursor, _ = _drain(api, "cc1")
    foreign = api.get("cc1", "/v1/sync/pull", params={"cursor": _forge(cursor, e="another-store")})
    assert foreign.status_code == 409
    assert foreign.json()["error"]["code"] == "reset_required"
    with sync_engine.begin() as conn:
        conn.execute(update(m.Meta).where(m.Meta.key == "retention_floor").values(value="1000"))
    old = api.get("cc1", "/v1/sync/pull", params={"cursor": cursor})
    assert old.status_code == 409
    assert old.json()["error"]["code"] == "reset_required"
    assert _pull(api, "cc1")["changes"]  # a fresh snapshot still works


def test_limit_is_bounded(api: Api) -> None:
    resp = api.get("cc1", "/v1/sync/pull", params={"limit": 10_001})
    assert resp.status_code == 422
    assert "limit" in resp.json()["error"]["details"]["fields"]


def _stored(engine: Engine, model: Any, key: Any, value: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row: dict[str, Any] = conn.execute(select(model.row).where(key == value)).scalar_one()
    return row


def test_snapshot_rows_are_the_stored_rows_and_contacts_carry_their_result(
    api: Api, sync_engine: Engine
) -> None:
    item = contact("C00000002", started=day_time(2))
    api.post("cc1", "/v1/sync/push", batch(item))
    changes, _cursor, _pages = _drain(api, "sup")
    by_key = {(c["entity"], c["id"]): c for c in changes}
    customer = by_key["customer", "C00000003"]["row"]
    assert customer == _stored(sync_engine, m.Customer, m.Customer.customer_id, "C00000003")
    campaign = by_key["campaign", "K0001"]["row"]
    assert campaign == _stored(sync_engine, m.Campaign, m.Campaign.campaign_id, "K0001")
    pulled = by_key["contact", item["id"]]["row"]
    stored = _stored(sync_engine, m.Contact, m.Contact.contact_id, item["id"])
    assert pulled["result"]["status"] == "applied"
    assert {k: v for k, v in pulled.items() if k != "result"} == stored


def test_small_snapshot_pages_bring_every_row_once(api: Api) -> None:
    for day in (1, 2, 3):
        api.post(
            "cc1", "/v1/sync/push", batch(contact("C00000001", seq=day, started=day_time(day)))
        )
    whole, _cursor, _pages = _drain(api, "sup", limit=10_000)
    paged, _cursor, pages = _drain(api, "sup", limit=2)
    assert sorted(_keys(paged)) == sorted(_keys(whole))
    assert len(paged) == len(whole)  # nothing twice
    for page in pages:  # at most `limit` changes, unless one customer's rows need more
        customers = [c for c in page["changes"] if c["entity"] == "customer"]
        assert len(page["changes"]) <= 2 or len(customers) == 1
    done = [page["progress"]["done"] for page in pages if page.get("progress")]
    assert done == sorted(done)
    assert done[-1] == 4


def _import(url: str, path: Path, rows: list[tuple[str, ...]]) -> None:
    """Import customers (``customer_id, msisdn, name, region_code``) with the bulk path."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "msisdn", "name", "region_code"])
        writer.writerows(rows)
    report = run_import(url, "customers", path)
    assert report.rejected == 0


def _customers(changes: list[dict[str, Any]]) -> list[tuple[int, str, str, str]]:
    return [
        (c["seq"], c["id"], c["row"]["attributes"]["name"], c["row"]["attributes"]["region_code"])
        for c in changes
        if c["entity"] == "customer" and c["op"] == "put"
    ]


def test_imported_customers_reach_the_feed_with_their_current_row(
    api: Api, store: str, tmp_path: Path
) -> None:
    _, cursor, _ = _drain(api, "cc1")
    _import(store, tmp_path / "a.csv", [("C00000001", "13800000001", "新名字", GZ),
                                        ("C00000009", "13800000009", "新客户", GZ),
                                        ("C00000010", "13800000010", "上海客户", SH)])  # fmt: skip
    changes, after_first, _ = _drain(api, "cc1", cursor)
    assert [(i, n, r) for _, i, n, r in _customers(changes)] == [
        ("C00000001", "新名字", GZ),
        ("C00000009", "新客户", GZ),
    ]  # the Shanghai customer is outside cc1's scope
    (full,) = [c for c in changes if c["id"] == "C00000009"]
    assert full["row"]["attributes"]["msisdn"] == "13800000009"
    assert {"attributes", "value", "churn"} <= set(full["row"])
    _import(store, tmp_path / "b.csv", [("C00000009", "13800000009", "改过的名字", GZ)])
    # a reader behind both imports gets the newest row for the older entry too
    behind, _, _ = _drain(api, "cc1", cursor)
    named = [(i, n) for _, i, n, _ in _customers(behind)]
    assert named == [("C00000001", "新名字"), ("C00000009", "改过的名字"),
                     ("C00000009", "改过的名字")]  # fmt: skip
    seqs = [s for s, *_ in _customers(behind)]
    assert seqs == sorted(seqs)
    newer, _, _ = _drain(api, "cc1", after_first)
    assert [(i, n) for _, i, n, _ in _customers(newer)] == [("C00000009", "改过的名字")]
    assert seqs[-1] == _customers(newer)[0][0]


def test_an_imported_customer_that_moved_or_went_away_is_not_sent_from_old_entries(
    api: Api, store: str, tmp_path: Path
) -> None:
    _, cursor, _ = _drain(api, "cc1")
    _, sh_cursor, _ = _drain(api, "st1")
    _import(store, tmp_path / "a.csv", [("C00000001", "13800000001", "甲", GZ),
                                        ("C00000002", "13800000002", "乙", GZ)])  # fmt: skip
    _import(store, tmp_path / "b.csv", [("C00000002", "13800000002", "乙", SH)])
    merge_customers(store, "C00000002", "C00000001")  # C00000001 is gone, a tombstone follows
    changes, _, _ = _drain(api, "cc1", cursor)
    assert _customers(changes) == []  # neither the merged-away row nor a Shanghai row
    assert [(c["op"], c["id"]) for c in changes if c["entity"] == "customer"] == [
        ("remove", "C00000001")
    ]
    sh_changes, _, _ = _drain(api, "st1", sh_cursor)
    assert [(i, r) for _, i, _, r in _customers(sh_changes)] == [("C00000002", SH)] * 2


def _stored_text(engine: Engine, column: Any, key: Any, value: str) -> str:
    with engine.connect() as conn:
        text_: str = conn.execute(select(cast(column, Text)).where(key == value)).scalar_one()
    return text_


def test_a_customers_snapshot_rows_come_in_wire_order_byte_for_byte_as_stored(
    api: Api, sync_engine: Engine
) -> None:
    cid = "C00000001"
    # contacts pushed newest first (over a week ago: the claim below stays allowed); the older
    # one rewritten by hand with blanks around its keys
    late, early = contact(cid, started=day_time(8)), contact(cid, started=day_time(10))
    api.post("cc1", "/v1/sync/push", batch(late, early))
    postgres = sync_engine.dialect.name == "postgresql"
    stored = _stored(sync_engine, m.Contact, m.Contact.contact_id, early["id"]) | {"note": "手写"}
    hand = json.dumps(stored, ensure_ascii=False, indent=1) + "  \n"
    with sync_engine.begin() as conn:
        conn.execute(
            text(f'UPDATE contact SET "row" = {"CAST(:r AS JSONB)" if postgres else ":r"} '
                 "WHERE contact_id = :k"),
            {"r": hand, "k": early["id"]},
        )  # fmt: skip
        holdings = [{"holding_id": f'{cid}-H"{n}\\', "customer_id": cid, "row": {"n": n},
                     "row_seq": n} for n in (1, 2)]  # fmt: skip
        conn.execute(insert(m.Holding), holdings)
        months = ["2026-03", "2026-01", "2026-02"]  # written out of order
        conn.execute(insert(m.UsageMonth), [{"customer_id": cid, "month": month,
                                             "row": {"month": month, "费用": 1.5}}
                                            for month in months])  # fmt: skip
        order = {"order_id": "MO1", "customer_id": cid, "row": {"order_id": "MO1"}, "row_seq": 7}
        conn.execute(insert(m.MarketingOrder), [order])
    granted = api.post("cc1", "/v1/claims", {"customer_id": cid, "channel": "inbound_call"})
    assert granted.status_code == 201, granted.text
    resp = api.get("cc1", "/v1/sync/pull", params={"cursor": "", "limit": 10_000})
    body: bytes = resp.content
    changes = resp.json()["changes"]
    start = next(i for i, c in enumerate(changes) if c["entity"] == "customer" and c["id"] == cid)
    ours = [changes[start]]
    ours += itertools.takewhile(lambda c: c["entity"] != "customer", changes[start + 1 :])
    assert [(c["entity"], c["id"]) for c in ours] == [
        ("customer", cid),
        ("holding", f'{cid}-H"1\\'),
        ("holding", f'{cid}-H"2\\'),
        ("usage_months", cid),  # all of the customer's months in one change
        ("target", f"K0001:{cid}"),
        ("order", "MO1"),
        ("claim", cid),
        ("contact", early["id"]),
        ("contact", late["id"]),
    ]
    for model, key, value in [
        (m.Customer, m.Customer.customer_id, cid),
        (m.Holding, m.Holding.holding_id, f'{cid}-H"2\\'),
        (m.MarketingOrder, m.MarketingOrder.order_id, "MO1"),
    ]:  # the stored text, as is
        assert f'"row":{_stored_text(sync_engine, model.row, key, value)}}}'.encode() in body
    with sync_engine.connect() as conn:
        stored_months = conn.scalars(
            select(cast(m.UsageMonth.row, Text))
            .where(m.UsageMonth.customer_id == cid)
            .order_by(m.UsageMonth.month)
        ).all()
    assert len(stored_months) == 3
    # oldest month first, each row as stored
    assert (
        f'"row":{{"customer_id":"{cid}","months":[{",".join(stored_months)}]}}}}'.encode() in body
    )
    assert ours[3]["row"] == usage_row(cid, [json.loads(t) for t in stored_months])
    row = _stored_text(sync_engine, m.Contact.row, m.Contact.contact_id, late["id"])
    result = _stored_text(sync_engine, m.Contact.result, m.Contact.contact_id, late["id"])
    assert f'"row":{row[:-1]},"result":{result}}}}}'.encode() in body  # result as the last key
    by_hand = ours[-2]["row"]
    assert list(by_hand) == [*stored, "result"]
    assert {k: v for k, v in by_hand.items() if k != "result"} == stored
    early_result = _stored_text(sync_engine, m.Contact.result, m.Contact.contact_id, early["id"])
    assert by_hand["result"] == json.loads(early_result)


def test_a_customer_committed_while_a_page_is_read_does_not_hide_the_last_ones_claim(
    api: Api, sync_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentdesk_sync import pull

    granted = api.post("cc1", "/v1/claims", {"customer_id": "C00000002", "channel": "inbound_call"})
    assert granted.status_code == 201, granted.text
    read_claims = pull._claims

    async def meanwhile(*args: Any) -> dict[str, bytes]:
        if not inserted:  # a new customer of the scope, between the page's two customers
            inserted.append(True)
            insert_customer(sync_engine, "C00000001a", GZ)
        return await read_claims(*args)

    inserted: list[bool] = []
    monkeypatch.setattr(pull, "_claims", meanwhile)
    changes, _cursor, _pages = _drain(api, "cc1", limit=8)
    assert inserted
    assert ("claim", "C00000002") in _keys(changes)
