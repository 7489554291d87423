"""Recording outcomes and "report wrong data": one durable local transaction each.

Both run on the UI's single writer thread. The outcome is written as the local ``contact`` row
plus its ``outbox`` row in one ``synchronous=FULL`` commit (the store's transactional outbox);
the returned DTO is the confirmation the UI shows. Both work offline. An outcome made under a
claim carries the claim's id and fence (Ctrl+K or the visit plan's pre-claim) and releases it
when pushed, so the visit plan stops showing that claim once the outcome is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from agentdesk.domain import Contact
from agentdesk.protocol import FeedbackPayload
from agentdesk.services.dto import OutcomeDraft, OutcomeSaved, UserSession
from agentdesk.store import CacheDB, visit_plan_repo
from agentdesk.store.outbox import record_intent, record_outcome
from agentdesk.store.outbox_sync import counts

__all__ = ["FeedbackService", "OutcomeService"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OutcomeService:
    """Saves contact outcomes into the local outbox.

    Args:
        db: the user's cache.
        session: the logged-in user (staff id, device id).
        clock: wall clock for the confirmation time.
    """

    def __init__(self, db: CacheDB, session: UserSession, clock: Clock = _utc_now) -> None:
        self._db = db
        self._session = session
        self._clock = clock

    def record(self, draft: OutcomeDraft) -> OutcomeSaved:
        """Durably record ``draft``; returns only after the commit.

        Raises:
            StoreError: nothing was saved (the UI says so and keeps the form).
        """
        contact = Contact(
            contact_id="",
            customer_id=draft.customer_id,
            channel=draft.channel,
            started_at=draft.started_at,
            ended_at=draft.ended_at,
            result_code=draft.result_code,
            staff_id=self._session.user.user_id,
            campaign_id=draft.campaign_id,
            next_appointment_at=draft.next_appointment_at,
            note=draft.note,
            reactions=draft.reactions,
        )
        with self._db.writer() as conn:
            entry = record_outcome(
                conn,
                contact,
                draft.reactions,
                draft.claim_id,
                draft.fence,
                self._session.device_id,
            )
            if draft.claim_id:  # the outcome gives the claim back: the plan stops showing it
                visit_plan_repo.claim_used(conn, draft.claim_id)
            waiting = counts(conn).waiting
        return OutcomeSaved(
            contact_id=entry.id,
            customer_id=draft.customer_id,
            saved_at=self._clock(),
            waiting=waiting,
        )


class FeedbackService:
    """Queues a frontline report of wrong customer data (outbox kind ``feedback``)."""

    def __init__(self, db: CacheDB) -> None:
        self._db = db

    def report(
        self,
        customer_id: str,
        *,
        panel: str,
        field: str = "",
        reported_value: str = "",
        correct_value: str = "",
        note: str = "",
    ) -> str:
        """Queue the report; returns its outbox id.

        Raises:
            StoreError: nothing was saved.
        """
        payload = FeedbackPayload(
            customer_id=customer_id,
            panel=panel,
            field=field,
            reported_value=reported_value,
            correct_value=correct_value,
            note=note,
        )
        with self._db.writer() as conn:
            return record_intent(conn, "feedback", payload).id
