"""The pull answer with every row left as JSON text, on both sides of the wire.

The service sends each stored row as is (no decode and re-encode) and the client keeps it as
:class:`msgspec.Raw` (a span of the answer, no Python objects); :mod:`agentdesk.store.rows`
decodes only the few columns the cache indexes. The shape is the pinned pull answer
(:class:`~agentdesk.protocol.PullResponse`, docs/api.md) with ``row`` left undecoded.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = ["NULL_ROW", "RawChange", "RawPullPage"]

NULL_ROW = msgspec.Raw(b"null")


class RawChange(msgspec.Struct, kw_only=True):
    """One change of the feed, its ``row`` the stored JSON text."""

    seq: int
    entity: str
    op: Literal["put", "remove"]
    id: str
    row: msgspec.Raw = NULL_ROW


class RawPullPage(msgspec.Struct, kw_only=True):
    """``GET /v1/sync/pull`` answer with undecoded rows."""

    changes: list[RawChange]
    cursor: str
    up_to_date: bool
    checksum: dict[str, Any] | None = None
    progress: dict[str, int] | None = None
