"""A push batch is judged as if its items ran one by one in ``seq`` order, and is all-or-nothing.

The service reads and writes a batch set-wise in one transaction; these tests pin the answers
a device sees to those of sequential processing: contacts of one batch count against each
other's caps, an id repeated in a batch is a duplicate (or a reuse), a merged-away customer id
records the contact on the kept customer, intents keep their place, and a database failure in
the middle of a batch answers ``retry`` for every item with nothing stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select

from agentdesk_sync.db import models as m

from .conftest import GZ, Api, insert_customer
from .pushing import batch, contact, cure, day_time, intent, poison


def _push(api: Api, user: str, *items: dict[str, Any]) -> dict[str, Any]:
    resp = api.post(user, "/v1/sync/push", batch(*items))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _verdict(result: dict[str, Any]) -> tuple[str, Any]:
    """Status and conflict of a result without the parts that differ between customers."""
    conflict = result.get("conflict")
    if conflict is None:
        return result["status"], None
    other = {k: v for k, v in conflict["other"].items() if k != "contact_ids"}
    kept = {k: v for k, v in conflict.items() if k not in ("server_time", "other")}
    return result["status"], {**kept, "other": other}


def test_contacts_of_one_batch_count_against_each_others_caps(api: Api) -> None:
    days = (5, 3, 1)
    together = [contact("C00000001", seq=i, started=day_time(d)) for i, d in enumerate(days)]
    body = _push(api, "cc1", *together)
    one_by_one = [
        _push(api, "cc1", contact("C00000002", seq=i, started=day_time(d)))["results"][0]
        for i, d in enumerate(days)
    ]
    results = body["results"]
    flagged = "applied_with_conflict"
    assert [r["status"] for r in results] == ["applied", flagged, flagged]
    assert [_verdict(r) for r in results] == [_verdict(r) for r in one_by_one]
    second = results[1]["conflict"]
    assert second["type"] == "frequency_cap"
    assert second["count_after"] == 2
    assert second["other"]["contact_ids"] == [together[0]["id"]]
    assert results[2]["conflict"]["count_after"] == 3
    seqs = [r["server_seq"] for r in results]
    assert seqs == sorted(seqs)
    assert body["write_checkpoint"] == seqs[-1]


def test_a_later_seq_in_the_batch_is_judged_after_an_earlier_one(api: Api) -> None:
    early = contact("C00000001", seq=1, started=day_time(6))
    late = contact("C00000001", seq=2, started=day_time(2))
    results = _push(api, "cc1", late, early)["results"]
    assert [r["id"] for r in results] == [late["id"], early["id"]]
    assert results[1]["status"] == "applied"
    assert results[0]["status"] == "applied_with_conflict"
    assert results[0]["conflict"]["other"]["contact_ids"] == [early["id"]]


def test_an_id_repeated_in_one_batch_is_a_duplicate_or_a_reuse(
    api: Api, sync_engine: Engine
) -> None:
    first = contact("C00000001", seq=1, note="first")
    again = {**first, "seq": 2}
    changed = {**first, "seq": 3, "payload": {**first["payload"], "note": "changed"}}
    results = _push(api, "cc1", first, again, changed)["results"]
    assert [r["status"] for r in results] == ["applied", "duplicate", "rejected"]
    assert results[1]["server_seq"] == results[0]["server_seq"]
    assert results[2]["error"]["code"] == "idempotency_key_reuse"
    assert _count(sync_engine, m.Contact) == 1
    (replayed,) = _push(api, "cc1", first)["results"]
    assert replayed == {**results[0], "status": "duplicate"}


def test_a_merged_away_customer_id_records_the_contact_on_the_kept_customer(
    api: Api, sync_engine: Engine
) -> None:
    with sync_engine.begin() as conn:
        conn.execute(
            insert(m.CustomerRedirect).values(
                old_id="C00000077", new_id="C00000002", merged_at=datetime.now(UTC)
            )
        )
    kept = contact("C00000002", seq=1, started=day_time(3))
    merged = contact("C00000077", seq=2, started=day_time(1))
    results = _push(api, "cc1", kept, merged)["results"]
    assert [r["status"] for r in results] == ["applied", "applied_with_conflict"]
    assert results[1]["conflict"]["other"]["contact_ids"] == [kept["id"]]
    with sync_engine.connect() as conn:
        owner = conn.execute(
            select(m.Contact.customer_id).where(m.Contact.contact_id == merged["id"])
        ).scalar_one()
    assert owner == "C00000002"
    (outside,) = _push(api, "st1", contact("C00000077", channel="store"))["results"]
    assert outside["error"]["code"] == "out_of_scope"


def test_a_mixed_batch_keeps_device_order(api: Api, sync_engine: Engine) -> None:
    c1 = contact("C00000001", seq=1, started=day_time(4))
    callback = intent("callback", {"customer_id": "C00000001", "due_at": day_time(-1, 3)}, seq=2)
    bad = intent("callback", {"customer_id": "C00000003", "due_at": day_time(-1, 3)}, seq=3)
    c2 = contact("C00000001", seq=4, started=day_time(2))
    body = _push(api, "cc1", c2, bad, callback, c1)
    by_id = {r["id"]: r for r in body["results"]}
    assert [r["id"] for r in body["results"]] == [c2["id"], bad["id"], callback["id"], c1["id"]]
    assert by_id[c1["id"]]["status"] == "applied"
    assert by_id[callback["id"]]["status"] == "applied"
    assert by_id[bad["id"]]["error"]["code"] == "out_of_scope"
    assert by_id[c2["id"]]["status"] == "applied_with_conflict"
    assert by_id[c2["id"]]["conflict"]["other"]["contact_ids"] == [c1["id"]]
    assert by_id[c1["id"]]["server_seq"] < by_id[c2["id"]]["server_seq"]
    assert by_id[callback["id"]]["server_seq"] >= by_id[c1["id"]]["server_seq"]
    assert body["write_checkpoint"] == by_id[c2["id"]]["server_seq"]
    assert _count(sync_engine, m.Contact) == 2
    assert _count(sync_engine, m.Intent) == 1


def test_the_change_feed_carries_each_contact_of_a_batch_once_in_seq_order(
    api: Api, sync_engine: Engine
) -> None:
    items = [contact(f"C0000000{1 + i % 2}", seq=10 - i, started=day_time(i + 1)) for i in range(6)]
    body = _push(api, "cc1", *items)
    with sync_engine.connect() as conn:
        rows = conn.execute(
            select(m.ChangeLog.entity_id, m.ChangeLog.server_seq)
            .where(m.ChangeLog.entity == "contact")
            .order_by(m.ChangeLog.server_seq)
        ).all()
        stamped = dict(conn.execute(select(m.Contact.contact_id, m.Contact.server_seq)).all())
    by_seq = sorted(items, key=lambda i: i["seq"])
    assert [r.entity_id for r in rows] == [i["id"] for i in by_seq]
    answered = {r["id"]: r["server_seq"] for r in body["results"]}
    assert stamped == answered == {r.entity_id: r.server_seq for r in rows}


def test_a_database_failure_in_a_batch_answers_retry_for_all_and_stores_nothing(
    api: Api, sync_engine: Engine
) -> None:
    items = [contact("C00000001", seq=i, started=day_time(i + 1)) for i in range(3)]
    log_before = _count(sync_engine, m.ChangeLog)
    poison(sync_engine, items[1]["id"])
    body = _push(api, "cc1", *items)
    assert [r["status"] for r in body["results"]] == ["retry"] * 3
    assert all(r["error"]["retry_after_ms"] > 0 for r in body["results"])
    assert _count(sync_engine, m.Contact) == 0
    assert _count(sync_engine, m.ChangeLog) == log_before
    cure(sync_engine)
    again = _push(api, "cc1", *items)["results"]
    flagged = "applied_with_conflict"
    assert [r["status"] for r in again] == ["applied", flagged, flagged]
    assert _count(sync_engine, m.Contact) == 3
    assert _count(sync_engine, m.ChangeLog) == log_before + 3


def test_a_nul_character_is_refused_for_that_item_only(api: Api, sync_engine: Engine) -> None:
    bad = contact("C00000001", seq=1, note="a\x00b")
    good = contact("C00000001", seq=2)
    body = _push(api, "cc1", bad, good)
    assert [r["status"] for r in body["results"]] == ["rejected", "applied"]
    assert body["results"][0]["error"]["code"] == "invalid_payload"
    assert _count(sync_engine, m.Contact) == 1


def test_a_note_that_spells_a_nul_escape_is_stored_as_typed(api: Api, sync_engine: Engine) -> None:
    typed = "path C:\\u0000 and a\\u0000b"  # backslash, then 'u0000': text, not a NUL
    bad = contact("C00000001", seq=1, note="x", campaign_id="k\x00")
    good = contact("C00000001", seq=2, note=typed)
    body = _push(api, "cc1", bad, good)
    assert [r["status"] for r in body["results"]] == ["rejected", "applied"]
    with sync_engine.connect() as conn:
        stored = conn.execute(select(m.Contact.row)).scalar_one()
    assert stored["note"] == typed


def test_a_do_not_contact_customer_flags_the_outbound_call_not_the_inbound_one(
    api: Api, sync_engine: Engine
) -> None:
    insert_customer(sync_engine, "C00000009", GZ, do_not_contact=True)
    inbound = contact("C00000009", seq=1, channel="inbound_call", started=day_time(3))
    outbound = contact("C00000009", seq=2, channel="outbound_call", started=day_time(2))
    alone = contact("C00000009", seq=3, channel="inbound_call", started=day_time(1))
    first = _push(api, "cc1", inbound, outbound)["results"]
    assert [r["status"] for r in first] == ["applied", "applied_with_conflict"]
    assert first[1]["conflict"]["type"] == "do_not_contact"
    # a batch with only a customer-initiated contact: the customer's block does not apply
    assert _push(api, "cc1", alone)["results"][0]["status"] == "applied"
