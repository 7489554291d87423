"""A field day, end to end over real HTTP: record with the service down, sync when it is back;
reset_required keeps the outbox; a rejected intent is visible and can be resubmitted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from agentdesk.domain import Channel, Contact, ResultCode
from agentdesk.store.outbox import get_entry, record_intent, record_outcome, resubmit_rejected
from agentdesk.store.outbox_sync import counts, needs_attention
from agentdesk.sync import Offline
from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine
from tests.integration.conftest import Central, Client
from tests.reliability.service import ServiceProcess
from tests.reliability.world import ledger


def _record(client: Client, customer: str, note: str) -> str:
    started = datetime.now(UTC) - timedelta(hours=1)
    contact = Contact(contact_id="", customer_id=customer, channel=Channel.INBOUND_CALL,
                      started_at=started, ended_at=started + timedelta(minutes=3),
                      result_code=ResultCode.REACHED_NO_OFFER, staff_id="", note=note)  # fmt: skip
    with client.db.writer() as conn:
        return record_outcome(conn, contact, device_id=client.name).id


def test_outcomes_recorded_while_the_service_is_down_are_acked_when_it_is_back(
    central: Central, make_client: Callable[[str, str], Client]
) -> None:
    client = make_client("laptop", "cc1")
    assert client.engine.run_once().ok
    central.service.stop()
    ids = [_record(client, central.customers[n], f"basement:{n}") for n in range(3)]

    offline = client.engine.run_once()
    assert isinstance(offline.error, Offline)
    assert client.engine.status.snapshot.state == "offline"
    assert client.engine.status.snapshot.waiting == 3

    central.service = ServiceProcess(
        central.db_url, central.service._log_path, port=central.service.port
    ).start()
    report = client.engine.run_once()
    assert report.ok
    assert report.acked == 3
    with client.db.reader() as conn:
        assert counts(conn).waiting == 0
        assert {get_entry(conn, i).state for i in ids} == {"acked"}  # type: ignore[union-attr]
    assert sorted(r.note for r in ledger(central.db_url)) == [f"basement:{n}" for n in range(3)]
    assert client.engine.status.snapshot.state == "online"


def test_reset_required_pushes_the_outbox_first_and_keeps_it(
    central: Central, make_client: Callable[[str, str], Client]
) -> None:
    client = make_client("desk", "cc1")
    assert client.engine.run_once().ok
    contact_id = _record(client, central.customers[0], "before-reset")
    engine = make_engine(central.db_url)
    with engine.begin() as conn:  # the store was restored from a backup: a new epoch
        conn.execute(update(m.Meta).where(m.Meta.key == "epoch").values(value="restored"))
    engine.dispose()

    report = client.engine.run_once()
    assert report.ok
    assert report.reset
    assert report.acked == 1
    assert [r.contact_id for r in ledger(central.db_url)] == [contact_id]
    with client.db.reader() as conn:
        entry = get_entry(conn, contact_id)
        customers = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
    assert entry is not None
    assert entry.state == "acked"
    assert customers == len(central.customers)


def test_a_rejected_intent_waits_in_needs_attention_and_resubmits_under_a_new_id(
    central: Central, make_client: Callable[[str, str], Client]
) -> None:
    client = make_client("counter", "cc1")
    payload = {"customer_id": "C99999999", "due_at": "2030-01-01T02:00:00Z", "note": "call back"}
    with client.db.writer() as conn:
        old = record_intent(conn, "callback", payload)
    report = client.engine.run_once()
    assert report.rejected == 1
    assert client.engine.status.snapshot.rejected == 1
    with client.db.reader() as conn:
        attention = needs_attention(conn)
    assert [(e.id, e.state) for e in attention] == [(old.id, "rejected")]
    assert attention[0].last_error

    with client.db.writer() as conn:
        new = resubmit_rejected(conn, old.id, payload | {"customer_id": central.customers[1]})
    assert new.id != old.id
    report = client.engine.run_once()
    assert report.ok
    assert report.acked == 1
    with client.db.reader() as conn:
        assert needs_attention(conn) == []
        assert counts(conn).rejected == 0
