"""After a merge every by-id lookup (push, claims, customer view) reaches the kept customer, also
after an import that still names the merged-away id, and even when a stale row of that id is
stored: the contacts the merge moved count against the caps of a push to the old id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from agentdesk_sync.db import models as m
from agentdesk_sync.importers import run_import
from agentdesk_sync.merge import merge_customers

from .conftest import Api, insert_customer
from .pushing import batch, contact, day_time

KEEP, OTHER = "C00000001", "C00000002"


def _push(api: Api, user: str, *items: dict[str, Any]) -> dict[str, Any]:
    resp = api.post(user, "/v1/sync/push", batch(*items))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _owner(engine: Engine, contact_id: str) -> str:
    with engine.connect() as conn:
        owner: str = conn.execute(
            select(m.Contact.customer_id).where(m.Contact.contact_id == contact_id)
        ).scalar_one()
    return owner


def _merge_after_a_contact(api: Api, store: str) -> dict[str, Any]:
    """A marketing call to OTHER three days ago, then OTHER merged into KEEP."""
    first = contact(OTHER, seq=1, started=day_time(3))
    assert _push(api, "cc1", first)["results"][0]["status"] == "applied"
    merge_customers(store, KEEP, OTHER)
    return first


def test_a_push_to_the_old_id_after_an_import_counts_the_moved_contacts(
    api: Api, store: str, sync_engine: Engine, tmp_path: Path
) -> None:
    first = _merge_after_a_contact(api, store)
    export = tmp_path / "customers.csv"
    export.write_text(
        "customer_id,msisdn,name,region_code,contact_address\n"
        f"{OTHER},13800000002,客户2,440100,广州市天河路1号\n"
    )
    report = run_import(store, "customers", export)
    assert (report.imported, report.updated, report.redirected) == (0, 1, 1)
    with sync_engine.connect() as conn:
        ids = conn.execute(select(m.Customer.customer_id).order_by(m.Customer.customer_id))
        assert OTHER not in list(ids.scalars())
    again = contact(OTHER, seq=2, started=day_time(1))
    (result,) = _push(api, "cc1", again)["results"]
    assert result["status"] == "applied_with_conflict"
    assert result["conflict"]["type"] == "frequency_cap"
    assert result["conflict"]["other"]["contact_ids"] == [first["id"]]
    assert _owner(sync_engine, again["id"]) == KEEP


def test_a_stale_row_of_a_merged_away_id_loses_to_the_redirect(
    api: Api, store: str, sync_engine: Engine
) -> None:
    first = _merge_after_a_contact(api, store)
    insert_customer(sync_engine, OTHER, "440100")  # as an import before this fix left it
    again = contact(OTHER, seq=2, started=day_time(1))
    (result,) = _push(api, "cc1", again)["results"]
    assert result["status"] == "applied_with_conflict"
    assert result["conflict"]["other"]["contact_ids"] == [first["id"]]
    assert _owner(sync_engine, again["id"]) == KEEP
    view = api.get("cc1", f"/v1/customers/{OTHER}")
    assert view.status_code == 200
    assert (view.json()["customer_id"], view.json()["redirected_from"]) == (KEEP, OTHER)
    # a claim judges the kept customer's history too (the stale row has none): the cap is full
    claim = api.post(
        "cc1",
        "/v1/claims",
        {"customer_id": OTHER, "channel": "inbound_call", "purpose": "contact", "ttl_s": 900},
    )
    assert claim.status_code == 409, claim.text
    (reason,) = claim.json()["error"]["details"]["reasons"]
    assert reason["code"] == "frequency_cap"
    assert sorted(reason["detail"]["contact_ids"]) == sorted([first["id"], again["id"]])
    with sync_engine.connect() as conn:
        stale_contacts = conn.execute(
            select(func.count()).select_from(m.Contact).where(m.Contact.customer_id == OTHER)
        ).scalar_one()
    assert stale_contacts == 0
