"""A pulled page as the client decodes it: every row stays the JSON text the service sent.

The service sends each stored row as is; the client keeps it as :class:`msgspec.Raw` (a span of
the answer, no Python objects) and :mod:`agentdesk.store.rows` decodes only the few columns the
cache indexes. The shape is the pinned pull answer (docs/api.md), with ``row`` left undecoded.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = ["NULL_ROW", "PulledChange", "PulledPage", "is_null"]

NULL_ROW = msgspec.Raw(b"null")


def is_null(raw: msgspec.Raw) -> bool:
    """Whether a raw row is JSON ``null`` (a ``remove`` carries no row)."""
    return len(raw) == 4 and bytes(raw) == b"null"


class PulledChange(msgspec.Struct, kw_only=True):
    """One change of the feed, its ``row`` undecoded."""

    seq: int
    entity: str
    op: Literal["put", "remove"]
    id: str
    row: msgspec.Raw = NULL_ROW


class PulledPage(msgspec.Struct, kw_only=True):
    """``GET /v1/sync/pull`` answer with undecoded rows."""

    changes: list[PulledChange]
    cursor: str
    up_to_date: bool
    checksum: dict[str, Any] | None = None
    progress: dict[str, int] | None = None
