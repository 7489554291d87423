"""Wire shapes with JSON left as text, on both sides of the wire.

Pull: the service sends each stored row as is (no decode and re-encode) and the client keeps it
as :class:`msgspec.Raw` (a span of the answer, no Python objects); :mod:`agentdesk.store.rows`
decodes only the few columns the cache indexes. The shape is the pinned pull answer
(:class:`~agentdesk.protocol.PullResponse`, docs/api.md) with ``row`` left undecoded.

Push: the client sends each outbox payload as the JSON text it stored when the outcome was
recorded (:class:`RawPushItem`); the body has the pinned shape of
:class:`~agentdesk.protocol.PushRequest`, field for field.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = ["NULL_ROW", "RawChange", "RawPullPage", "RawPushItem", "RawPushRequest"]

NULL_ROW = msgspec.Raw(b"null")


class RawChange(msgspec.Struct, kw_only=True, gc=False):
    """One change of the feed, its ``row`` the stored JSON text.

    Not tracked by the garbage collector (it holds no containers, so it can be in no reference
    cycle): a first sync decodes about two million of them, and tracked ones made the
    collector run and walk them over and over.
    """

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


class RawPushItem(msgspec.Struct, kw_only=True):
    """One outbox item with its payload as stored JSON text (fields in
    :class:`~agentdesk.protocol.PushItem`'s order, so the encoded item is the same)."""

    id: str
    seq: int
    kind: str
    schema: int
    payload: msgspec.Raw
    claim_id: str | None = None
    fence: int | None = None


class RawPushRequest(msgspec.Struct, kw_only=True):
    """``POST /v1/sync/push`` body built from :class:`RawPushItem` (≤ 500 items)."""

    device_id: str
    items: list[RawPushItem]
