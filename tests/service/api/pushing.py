"""Helpers that build push items for the API tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


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
