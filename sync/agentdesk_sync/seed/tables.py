"""Wire rows → database tuples for bulk loading (``INSERT … executemany`` or ``COPY``).

The conversion runs inside the generator's worker processes, so JSON encoding is parallel too.
SQLite gets SQLAlchemy's storage forms (``YYYY-MM-DD HH:MM:SS.ffffff`` UTC, 0/1, JSON text);
PostgreSQL ``COPY`` gets ISO timestamps, booleans and JSON text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from agentdesk.domain import Campaign as CampaignObj
from agentdesk.domain import Channel, Offer
from agentdesk.protocol import to_row
from agentdesk_sync.seed.generator import ChunkRows

__all__ = ["COLUMNS", "Tables", "catalog_tables", "chunk_tables", "copy_text"]

Row = dict[str, Any]
Tables = dict[str, list[tuple[Any, ...]]]
COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("customer_id", "msisdn", "name", "id_type", "id_number", "region_code",
                 "segment_id", "account_manager_id", "contact_address", "row", "row_seq",
                 "updated_at"),
    "holding": ("holding_id", "customer_id", "row", "row_seq"),
    "usage_month": ("customer_id", "month", "row"),
    "contact": ("contact_id", "customer_id", "channel", "staff_id", "campaign_id", "started_at",
                "ended_at", "result_code", "is_marketing", "reached", "row", "device_id",
                "payload_hash", "result", "server_seq", "received_at"),
    "target_member": ("campaign_id", "customer_id", "in_control_group", "wave", "row", "row_seq"),
    "marketing_order": ("order_id", "customer_id", "row", "row_seq"),
    "campaign": ("campaign_id", "row", "row_seq"),
    "offer": ("offer_id", "campaign_id", "row", "row_seq"),
}  # fmt: skip
_CUSTOMER_STARTED = frozenset(c.value for c in Channel if c.customer_initiated)
_NOT_REACHED = frozenset({"not_reached_no_answer", "not_reached_busy", "not_reached_off",
                          "wrong_number"})  # fmt: skip


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    return str(value)


def copy_text(rows: list[tuple[Any, ...]]) -> bytes:
    """``rows`` in PostgreSQL ``COPY … FROM STDIN`` text format (made in the worker processes)."""
    return "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows).encode()


def _dumps(row: object) -> str:
    return orjson.dumps(row).decode()


def _sqlite_time(iso: str) -> str:
    return f"{iso[:10]} {iso[11:19]}.000000"


def _pg_time(iso: str) -> str:
    return iso


def _contact(
    row: Row, when: Callable[[str], str], flag: Callable[[bool], Any], json: Callable[[Any], Any]
) -> tuple[Any, ...]:
    marketing = bool(row["campaign_id"] or row["reactions"]) or (
        row["channel"] not in _CUSTOMER_STARTED
    )
    return (
        row["contact_id"], row["customer_id"], row["channel"], row["staff_id"],
        row["campaign_id"], when(row["started_at"]), when(row["ended_at"]), row["result_code"],
        flag(marketing), flag(row["result_code"] not in _NOT_REACHED), json(row), "seed",
        None, None, 0, when(row["ended_at"]),
    )  # fmt: skip


def chunk_tables(rows: ChunkRows, dialect: str, updated_at: str) -> Tables:
    """The database tuples of one generated chunk, per table (column order: :data:`COLUMNS`).

    For SQLite the JSON columns are UTF-8 bytes (the scratch databases keep them as they are and
    the copy into the store casts them to text); for PostgreSQL they are text.
    """
    when = _sqlite_time if dialect == "sqlite" else _pg_time
    json: Callable[[Any], Any] = orjson.dumps if dialect == "sqlite" else _dumps
    flag: Callable[[bool], Any] = int if dialect == "sqlite" else bool
    stamp = when(updated_at)
    customers = []
    for row in rows.customers:
        a = row["attributes"]
        customers.append(
            (a["customer_id"], a["msisdn"], a["name"], a["id_type"], a["id_number"],
             a["region_code"], a["segment_id"], a["account_manager_id"], a["contact_address"],
             json(row), 0, stamp)
        )  # fmt: skip
    return {
        "customer": customers,
        "holding": [(h["holding_id"], h["customer_id"], json(h), 0) for h in rows.holdings],
        "usage_month": [(u["customer_id"], u["month"], json(u)) for u in rows.usage],
        "contact": [_contact(c, when, flag, json) for c in rows.contacts],
        "target_member": [
            (
                t["campaign_id"],
                t["customer_id"],
                flag(t["in_control_group"]),
                t["wave"],
                json(t),
                0,
            )
            for t in rows.targets
        ],
        "marketing_order": [(o["order_id"], o["customer_id"], json(o), 0) for o in rows.orders],
    }


def catalog_tables(campaigns: list[CampaignObj], offers: list[Offer]) -> Tables:
    """The database tuples of the campaigns and offers."""
    return {
        "campaign": [(c.campaign_id, _dumps(to_row(c)), 0) for c in campaigns],
        "offer": [(o.offer_id, o.campaign_id, _dumps(to_row(o)), 0) for o in offers],
    }
