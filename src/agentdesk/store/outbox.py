"""The transactional outbox: recording outcomes and intents (docs/sync.md).

``record_outcome`` writes the local ``contact`` row and its ``outbox`` row in ONE SQLite
transaction on the ``synchronous=FULL`` writer, and returns only after COMMIT: when it returns,
the outcome survives a crash or power loss; when it raises, nothing was written. Usage::

    with db.writer() as w:
        entry = record_outcome(w, contact, claim_id=claim.claim_id, fence=claim.fence)

The sync engine's side of the outbox (batches, results, acks) is in
:mod:`agentdesk.store.outbox_sync`.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from agentdesk.domain import Contact, OfferReaction
from agentdesk.protocol import ContactPayload, ReactionPayload, to_row
from agentdesk.store.codec import dumps, loads, new_id, now_text, payload_hash, ts_text
from agentdesk.store.db import transaction
from agentdesk.store.meta import ensure_device_id, next_client_seq

__all__ = [
    "INTENT_KINDS",
    "OUTBOX_COLUMNS",
    "PAYLOAD_SCHEMA",
    "OutboxEntry",
    "contact_payload",
    "get_entry",
    "record_intent",
    "record_outcome",
    "resubmit_rejected",
]

PAYLOAD_SCHEMA = 1
INTENT_KINDS = ("reaction", "callback", "visit_plan", "feedback")

OUTBOX_COLUMNS = (
    "id, client_seq, kind, payload_schema, payload, payload_hash, claim_id, fence, "
    "created_at_local, state, attempts, next_attempt_at, last_error, server_seq, result, "
    "dismissed_at, replaces_id"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEntry:
    """One outbox row, as the sync engine and the "Needs attention" view see it."""

    id: str
    client_seq: int
    kind: str
    payload_schema: int
    payload: dict[str, Any]
    payload_hash: str
    claim_id: str | None
    fence: int | None
    created_at_local: str
    state: str
    attempts: int = 0
    next_attempt_at: str | None = None
    last_error: str | None = None
    server_seq: int | None = None
    result: dict[str, Any] | None = None
    dismissed_at: str | None = None
    replaces_id: str | None = None

    @classmethod
    def from_db(cls, row: Sequence[Any]) -> OutboxEntry:
        """Build from a row selected with the module's column list."""
        (id_, seq, kind, schema, payload, phash, claim_id, fence, created, state, attempts,
         next_at, last_error, server_seq, result, dismissed, replaces) = row  # fmt: skip
        return cls(
            id=id_, client_seq=seq, kind=kind, payload_schema=schema, payload=loads(payload),
            payload_hash=phash, claim_id=claim_id, fence=fence, created_at_local=created,
            state=state, attempts=attempts, next_attempt_at=next_at, last_error=last_error,
            server_seq=server_seq, result=loads(result), dismissed_at=dismissed,
            replaces_id=replaces,
        )  # fmt: skip

    @property
    def customer_id(self) -> str | None:
        """The customer the item is about, when it has one."""
        value = self.payload.get("customer_id")
        return value if isinstance(value, str) else None


def contact_payload(contact: Contact, *, release_claim: bool = True) -> dict[str, Any]:
    """The ``contact`` push payload (docs/api.md) of a domain ``Contact``."""
    reactions = [
        ReactionPayload(
            offer_id=r.offer_id,
            reaction=r.reaction.value,
            campaign_id=r.campaign_id,
            customer_id=contact.customer_id,
            contact_id=contact.contact_id,
        )
        for r in contact.reactions
    ]
    payload = ContactPayload(
        contact_id=contact.contact_id,
        customer_id=contact.customer_id,
        channel=contact.channel.value,
        started_at=_wire_ts(contact.started_at),
        ended_at=_wire_ts(contact.ended_at),
        result_code=contact.result_code.value,
        campaign_id=contact.campaign_id,
        opportunity_id=contact.opportunity_id,
        next_appointment_at=_wire_ts(contact.next_appointment_at),
        note=contact.note,
        reactions=reactions,
        staff_id=contact.staff_id,
        release_claim=release_claim,
    )
    result = msgspec.to_builtins(payload)
    assert isinstance(result, dict)
    return result


def _wire_ts(value: Any) -> Any:
    return None if value is None else msgspec.to_builtins(value)


def record_outcome(
    conn: sqlite3.Connection,
    contact: Contact,
    reactions: Sequence[OfferReaction] = (),
    claim_id: str | None = None,
    fence: int | None = None,
    device_id: str | None = None,
    *,
    release_claim: bool = True,
) -> OutboxEntry:
    """Durably record a contact outcome: local ``contact`` row + ``outbox`` row, one commit.

    Args:
        conn: the writer connection (``CacheDB.writer()``).
        contact: the contact; an empty ``contact_id`` gets a new UUIDv7, which is also the
            outbox id (docs/api.md: ``contact_id`` = item id).
        reactions: reactions to offers; when given they replace ``contact.reactions``.
        claim_id: the claim held while contacting, if any.
        fence: that claim's fencing token.
        device_id: this device's id; stored once in ``app_meta`` when given.
        release_claim: ask the server to release the claim with the outcome.

    Returns:
        The committed outbox entry (state ``pending``).

    Raises:
        StoreError: nothing was saved (disk full, read-only, locked…).
    """
    if not contact.contact_id:
        contact = dataclasses.replace(contact, contact_id=new_id())
    if reactions:
        contact = dataclasses.replace(contact, reactions=tuple(reactions))
    payload = contact_payload(contact, release_claim=release_claim)
    with transaction(conn):
        if device_id:
            ensure_device_id(conn, device_id)
        _insert_local_contact(conn, contact)
        return _insert_entry(conn, contact.contact_id, "contact", payload, claim_id, fence)


def record_intent(
    conn: sqlite3.Connection,
    kind: str,
    payload: msgspec.Struct | dict[str, Any],
    *,
    claim_id: str | None = None,
    fence: int | None = None,
) -> OutboxEntry:
    """Durably queue an intent (``callback``, ``visit_plan``, ``feedback``, ``reaction``).

    Args:
        conn: the writer connection.
        kind: one of :data:`INTENT_KINDS`.
        payload: the payload struct of :mod:`agentdesk.protocol` (or its dict form).
        claim_id: the claim held, if any.
        fence: that claim's fencing token.

    Returns:
        The committed outbox entry.

    Raises:
        ValueError: unknown ``kind``.
        StoreError: nothing was saved.
    """
    if kind not in INTENT_KINDS:
        raise ValueError(f"unknown intent kind {kind!r}")
    body = payload if isinstance(payload, dict) else msgspec.to_builtins(payload)
    with transaction(conn):
        return _insert_entry(conn, new_id(), kind, body, claim_id, fence)


def resubmit_rejected(
    conn: sqlite3.Connection, entry_id: str, new_payload: dict[str, Any]
) -> OutboxEntry:
    """Queue an edited copy of a rejected item under a NEW id; the old one is dismissed.

    Args:
        conn: the writer connection.
        entry_id: the rejected item.
        new_payload: the corrected payload (for a contact, ``contact_id`` is rewritten).

    Returns:
        The new pending entry (``replaces_id`` = the old id).

    Raises:
        ValueError: the item does not exist or is not ``rejected``.
        StoreError: nothing was saved.
    """
    with transaction(conn):
        old = get_entry(conn, entry_id)
        if old is None or old.state != "rejected":
            raise ValueError(f"outbox item {entry_id} is not a rejected item")
        new = new_id()
        body = dict(new_payload)
        conn.execute("UPDATE outbox SET dismissed_at = ? WHERE id = ?", (now_text(), entry_id))
        if old.kind == "contact":
            body["contact_id"] = new
            conn.execute("DELETE FROM contact WHERE contact_id = ? AND origin = 'local'", (old.id,))
            body.setdefault("staff_id", old.payload.get("staff_id"))
            _insert_local_contact(conn, msgspec.convert(body, Contact, strict=False))
        return _insert_entry(conn, new, old.kind, body, old.claim_id, old.fence, replaces=old.id)


def get_entry(conn: sqlite3.Connection, entry_id: str) -> OutboxEntry | None:
    """One outbox item by id, or ``None``."""
    row = conn.execute(f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?", (entry_id,)).fetchone()
    return None if row is None else OutboxEntry.from_db(row)


def _insert_entry(
    conn: sqlite3.Connection,
    entry_id: str,
    kind: str,
    payload: dict[str, Any],
    claim_id: str | None,
    fence: int | None,
    *,
    replaces: str | None = None,
) -> OutboxEntry:
    seq = next_client_seq(conn)
    created = now_text()
    phash = payload_hash(payload)
    conn.execute(
        "INSERT INTO outbox (id, client_seq, kind, payload_schema, payload, payload_hash, "
        "claim_id, fence, created_at_local, created_mono_ns, state, attempts, replaces_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
        (entry_id, seq, kind, PAYLOAD_SCHEMA, dumps(payload), phash, claim_id, fence,
         created, time.monotonic_ns(), replaces),
    )  # fmt: skip
    return OutboxEntry(
        id=entry_id, client_seq=seq, kind=kind, payload_schema=PAYLOAD_SCHEMA, payload=payload,
        payload_hash=phash, claim_id=claim_id, fence=fence, created_at_local=created,
        state="pending", replaces_id=replaces,
    )  # fmt: skip


def _insert_local_contact(conn: sqlite3.Connection, contact: Contact) -> None:
    row = to_row(contact)
    row["result"] = None
    conn.execute(
        "INSERT INTO contact (contact_id, customer_id, channel, staff_id, campaign_id, "
        "started_at, result_code, is_marketing, reached, origin, row, result, server_seq, "
        "row_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'local', ?, NULL, NULL, 0)",
        (contact.contact_id, contact.customer_id, contact.channel.value, contact.staff_id,
         contact.campaign_id, ts_text(contact.started_at), contact.result_code.value,
         contact.is_marketing, contact.reached, dumps(row)),
    )  # fmt: skip
