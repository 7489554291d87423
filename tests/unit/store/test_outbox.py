"""The transactional outbox: outcome + outbox row commit together or not at all."""

from __future__ import annotations

import sqlite3

import msgspec
import pytest

from agentdesk.domain import OfferReaction, Reaction
from agentdesk.protocol import CallbackPayload, ItemError, PushResult
from agentdesk.store import CacheDB, StoreError, transaction
from agentdesk.store.codec import dumps, loads
from agentdesk.store.outbox import get_entry, record_intent, record_outcome, resubmit_rejected
from agentdesk.store.outbox_sync import counts, requeue_inflight, take_batch
from tests.unit.store.conftest import make_contact


def rows(db: CacheDB, table: str) -> int:
    with db.reader() as r:
        return int(r.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_outcome_writes_contact_and_outbox_in_one_commit(db: CacheDB) -> None:
    reaction = OfferReaction(offer_id="O0001", reaction=Reaction.ACCEPT, campaign_id="K0001")
    with db.writer() as w:
        entry = record_outcome(w, make_contact(), [reaction], "claim-1", 7, "dev-1")
    assert entry.state == "pending"
    assert entry.payload["contact_id"] == entry.id
    assert entry.payload["reactions"][0]["offer_id"] == "O0001"
    assert entry.claim_id == "claim-1"
    assert entry.fence == 7
    assert len(entry.payload_hash) == 64
    # a different (read-only) connection sees both rows: the commit happened
    with db.reader() as r:
        contact = r.execute("SELECT origin, customer_id FROM contact").fetchone()
        stored = r.execute("SELECT id, state, kind FROM outbox").fetchone()
    assert contact == ("local", "C00000001")
    assert stored == (entry.id, "pending", "contact")


def test_uuid7_ids_and_increasing_client_seq(db: CacheDB) -> None:
    with db.writer() as w:
        entries = [record_outcome(w, make_contact(minutes=i)) for i in range(3)]
    assert [e.client_seq for e in entries] == [1, 2, 3]
    assert all(e.id[14] == "7" for e in entries)
    assert len({e.id for e in entries}) == 3


def test_failure_inside_the_transaction_leaves_neither_row(db: CacheDB) -> None:
    with db.writer() as w:
        w.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
        with pytest.raises(StoreError):
            record_outcome(w, make_contact())
    assert rows(db, "contact") == 0
    assert rows(db, "outbox") == 0


def test_python_exception_mid_transaction_rolls_back(
    db: CacheDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(_conn: sqlite3.Connection) -> int:
        raise RuntimeError("killed between the two inserts")

    monkeypatch.setattr("agentdesk.store.outbox.next_client_seq", explode)
    with db.writer() as w, pytest.raises(RuntimeError):
        record_outcome(w, make_contact())
    assert rows(db, "contact") == 0
    assert rows(db, "outbox") == 0


def test_intent_is_queued_with_its_payload(db: CacheDB) -> None:
    payload = CallbackPayload(customer_id="C00000001", due_at="2026-11-27T02:00:00Z")
    with db.writer() as w:
        entry = record_intent(w, "callback", payload)
        with pytest.raises(ValueError, match="unknown intent"):
            record_intent(w, "contact", payload)
    assert entry.kind == "callback"
    assert entry.payload["due_at"] == "2026-11-27T02:00:00Z"
    assert rows(db, "contact") == 0


def test_batches_follow_client_seq_and_respect_limits(db: CacheDB) -> None:
    with db.writer() as w:
        entries = [record_outcome(w, make_contact(minutes=i, note="x" * 200)) for i in range(6)]
    size = len(dumps(entries[0].payload))
    with db.sync_writer() as s:
        assert [i.seq for i in take_batch(s, max_bytes=10)] == [1]  # the first always goes
        assert [i.seq for i in take_batch(s, limit=3)] == [2, 3, 4]
        assert [i.seq for i in take_batch(s, max_bytes=size + 10)] == [5]
        assert [i.seq for i in take_batch(s)] == [6]


def test_a_taken_batch_goes_out_as_recorded_and_only_it_is_marked_sent(db: CacheDB) -> None:
    with db.writer() as w:
        entries = [record_outcome(w, make_contact(minutes=i, note="x" * 200)) for i in range(5)]
    size = len(dumps(entries[0].payload))
    with db.sync_writer() as s:
        assert counts(s).waiting == 5
        first = take_batch(s, limit=3, max_bytes=2 * size + 10)
        assert [i.seq for i in first] == [1, 2]
        assert [msgspec.json.decode(i.payload) for i in first] == [e.payload for e in entries[:2]]
        assert [(i.id, i.kind, i.schema) for i in first] == [
            (e.id, "contact", 1) for e in entries[:2]
        ]
        states = [get_entry(s, e.id).state for e in entries]  # type: ignore[union-attr]
        assert states == ["inflight", "inflight", "pending", "pending", "pending"]
        assert counts(s).waiting == 5  # sent is not delivered
        assert [i.seq for i in take_batch(s)] == [3, 4, 5]
        assert take_batch(s) == []


def test_retry_backs_off_without_letting_later_items_overtake(db: CacheDB) -> None:
    from agentdesk.store.outbox_sync import apply_push_results

    with db.writer() as w:
        first, second = (record_outcome(w, make_contact(minutes=i)) for i in range(2))
    with db.sync_writer() as s:
        assert [i.id for i in take_batch(s)] == [first.id, second.id]
        apply_push_results(
            s,
            [
                PushResult(
                    id=first.id, status="retry", error=ItemError(code="busy", retry_after_ms=60_000)
                ),
                PushResult(id=second.id, status="retry"),
            ],
        )
        assert take_batch(s) == []
        assert get_entry(s, second.id).state == "pending"  # type: ignore[union-attr]
        assert get_entry(s, first.id).attempts == 1  # type: ignore[union-attr]
        assert counts(s).waiting == 2


def test_requeue_after_restart_resends_unanswered_items(db: CacheDB) -> None:
    with db.writer() as w:
        entry = record_outcome(w, make_contact())
        assert [i.id for i in take_batch(w)] == [entry.id]
        assert take_batch(w) == []
        assert requeue_inflight(w) == 1
        assert [i.id for i in take_batch(w)] == [entry.id]


def test_resubmitting_a_rejected_item_uses_a_new_uuid(db: CacheDB) -> None:
    from agentdesk.store.outbox_sync import apply_push_results, needs_attention

    with db.writer() as w:
        entry = record_outcome(w, make_contact())
        assert [i.id for i in take_batch(w)] == [entry.id]
        apply_push_results(
            w,
            [PushResult(id=entry.id, status="rejected", error=ItemError(code="invalid_payload"))],
        )
        assert [e.id for e in needs_attention(w)] == [entry.id]
        fixed = dict(entry.payload, note="corrected")
        new = resubmit_rejected(w, entry.id, fixed)
        assert needs_attention(w) == []
        with pytest.raises(ValueError, match="not a rejected"):
            resubmit_rejected(w, new.id, fixed)
    assert new.id != entry.id
    assert new.payload["contact_id"] == new.id
    assert new.replaces_id == entry.id
    assert new.client_seq > entry.client_seq
    with db.reader() as r:
        ids = [row[0] for row in r.execute("SELECT contact_id FROM contact")]
    assert ids == [new.id]


def test_attention_dismiss_counts_and_pruning(db: CacheDB) -> None:
    from datetime import UTC, datetime, timedelta

    from agentdesk.protocol import Conflict
    from agentdesk.store.outbox_sync import (
        ack_through,
        apply_push_results,
        dismiss,
        needs_attention,
        prune_acked,
    )

    with db.writer() as w:
        ok, dup, clash, bad = (record_outcome(w, make_contact(minutes=i)) for i in range(4))
        assert [i.id for i in take_batch(w)] == [ok.id, dup.id, clash.id, bad.id]
        apply_push_results(
            w,
            [
                PushResult(id=ok.id, status="applied", server_seq=10),
                PushResult(id=dup.id, status="duplicate", server_seq=11),
                PushResult(
                    id=clash.id,
                    status="applied_with_conflict",
                    server_seq=12,
                    conflict=Conflict(type="claimed_by_other"),
                ),
                PushResult(id=bad.id, status="rejected", error=ItemError(code="out_of_scope")),
            ],
        )
        assert counts(w) == counts(w).__class__(waiting=0, conflicts=1, rejected=1)
        assert get_entry(w, bad.id).last_error == "out_of_scope: "  # type: ignore[union-attr]
        assert [e.id for e in needs_attention(w)] == [clash.id, bad.id]
        assert dismiss(w, clash.id)
        assert not dismiss(w, clash.id)
        assert not dismiss(w, ok.id)
        assert [e.id for e in needs_attention(w)] == [bad.id]
        with transaction(w):
            assert ack_through(w, 11) == 2
        assert prune_acked(w, now=datetime.now(UTC)) == 0
        assert prune_acked(w, now=datetime.now(UTC) + timedelta(days=31)) == 2
        left = {r[0] for r in w.execute("SELECT id FROM outbox")}
    assert left == {clash.id, bad.id}


def test_an_answer_for_items_no_longer_in_flight_is_recorded_like_any_other(db: CacheDB) -> None:
    from agentdesk.store.outbox_sync import ack_through, apply_push_results

    with db.writer() as w:
        sent, back = (record_outcome(w, make_contact(minutes=i)) for i in range(2))
    with db.sync_writer() as s:
        assert [i.id for i in take_batch(s)] == [sent.id, back.id]
        requeue_inflight(s)  # a cut: both back to pending, then only the first is sent again
        assert [i.id for i in take_batch(s, limit=1)] == [sent.id]
        apply_push_results(
            s,
            [
                PushResult(id=sent.id, status="applied", server_seq=5),
                PushResult(id=back.id, status="duplicate", server_seq=6),
            ],
        )
        entries = [get_entry(s, e.id) for e in (sent, back)]
        assert [(e.state, e.server_seq) for e in entries if e] == [("inflight", 5), ("inflight", 6)]
        assert [e.result["status"] for e in entries if e and e.result] == ["applied", "duplicate"]
        contacts = s.execute(
            "SELECT server_seq, result FROM contact ORDER BY server_seq"
        ).fetchall()
        assert [(seq, loads(text)["status"]) for seq, text in contacts] == [
            (5, "applied"),
            (6, "duplicate"),
        ]
        assert counts(s).waiting == 0  # on the server: nothing left to send
        with transaction(s):
            assert ack_through(s, 6) == 2
