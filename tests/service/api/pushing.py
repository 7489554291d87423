"""Helpers that build push items for the API tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text


def day_time(days_ago: int, hour_utc: int = 3) -> str:
    """RFC 3339 of ``days_ago`` days back at ``hour_utc`` UTC (03:00 UTC = 11:00 in China)."""
    day = datetime.now(UTC).replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return (day - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


def contact(
    customer_id: str,
    *,
    seq: int = 1,
    channel: str = "outbound_call",
    started: str | None = None,
    result_code: str = "reached_no_offer",
    item_id: str | None = None,
    claim_id: str | None = None,
    fence: int | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """A ``contact`` push item."""
    cid = item_id or str(uuid.uuid4())
    start = started or day_time(1)
    body = {
        "contact_id": cid,
        "customer_id": customer_id,
        "channel": channel,
        "started_at": start,
        "ended_at": start,
        "result_code": result_code,
        **payload,
    }
    item: dict[str, Any] = {"id": cid, "seq": seq, "kind": "contact", "schema": 1, "payload": body}
    if claim_id is not None:
        item["claim_id"], item["fence"] = claim_id, fence
    return item


def intent(kind: str, payload: dict[str, Any], *, seq: int = 1) -> dict[str, Any]:
    """An intent push item."""
    return {"id": str(uuid.uuid4()), "seq": seq, "kind": kind, "schema": 1, "payload": payload}


def batch(*items: dict[str, Any], device: str = "dev-1") -> dict[str, Any]:
    """A push body."""
    return {"device_id": device, "items": list(items)}


TRANSIENT = "40001"  # serialization_failure: a retry may cure it
PERMANENT = "P0001"  # raise_exception: a retry does not cure it


def poison(engine: Engine, contact_id: str, *, errcode: str = TRANSIENT) -> None:
    """Make the database fail when the ledger row ``contact_id`` is inserted.

    On PostgreSQL the error carries ``errcode``; SQLite has one kind (``RAISE(ABORT)``).
    """
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON contact"
                    f" WHEN NEW.contact_id = '{contact_id}'"
                    " BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                )
            )
            return
        conn.execute(
            text(
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" IF NEW.contact_id = '{contact_id}' THEN"
                f" RAISE EXCEPTION 'poisoned' USING ERRCODE = '{errcode}'; END IF;"
                " RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER poison BEFORE INSERT ON contact"
                " FOR EACH ROW EXECUTE FUNCTION poison()"
            )
        )


def cure(engine: Engine) -> None:
    """Undo :func:`poison`."""
    with engine.begin() as conn:
        on = " ON contact" if conn.dialect.name == "postgresql" else ""
        conn.execute(text(f"DROP TRIGGER poison{on}"))
