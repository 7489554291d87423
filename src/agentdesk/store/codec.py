"""Small encoders shared by the store: fixed-width UTC time text, canonical JSON, ids.

Times are stored as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (27 characters), so that text order is time
order in indexes. JSON goes through orjson (bench/README.md: stdlib ``json`` is too slow on sync
paths). ``payload_hash`` is the SHA-256 hex of the canonical JSON (keys sorted, no spaces).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import uuid_utils

__all__ = [
    "canonical_json",
    "dumps",
    "loads",
    "new_id",
    "now_text",
    "parse_ts",
    "payload_hash",
    "ts_text",
]


_TS_WIDTH = 27
_UTC_TEXT = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{6})?Z"
)


def ts_text(value: datetime | str | None) -> str | None:
    """A datetime (or RFC 3339 text) as fixed-width UTC text; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, str):
        if _UTC_TEXT.fullmatch(value):  # the wire's usual form: no datetime round trip
            return value if len(value) == _TS_WIDTH else f"{value[:19]}.000000Z"
        value = parse_ts(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    """RFC 3339 text (``Z`` or an offset) as an aware UTC datetime."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now_text() -> str:
    """Now, as fixed-width UTC text."""
    text = ts_text(datetime.now(UTC))
    assert text is not None
    return text


def dumps(obj: Any) -> str:
    """Compact JSON text."""
    return orjson.dumps(obj).decode()


def loads(text: str | bytes | None) -> Any:
    """Parse JSON text (``None`` stays ``None``)."""
    return None if text is None else orjson.loads(text)


def canonical_json(obj: Any) -> bytes:
    """Canonical JSON bytes: keys sorted, compact, UTF-8."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def payload_hash(payload: Any) -> str:
    """SHA-256 hex of the canonical JSON of ``payload``."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def new_id() -> str:
    """A new UUIDv7 as text (time-ordered; never used for correctness)."""
    return str(uuid_utils.uuid7())
