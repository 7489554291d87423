"""JSON on the wire: msgspec decoding with pinned errors, responses, and UTC time helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from fastapi import Request
from starlette.responses import Response

from agentdesk_sync.errors import ApiError

__all__ = [
    "as_utc",
    "decode_body",
    "decode_json",
    "error_fields",
    "iso",
    "json_response",
    "parse_ts",
    "utcnow",
]

T = TypeVar("T")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def utcnow() -> datetime:
    """The server clock, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as aware UTC (SQLite hands back naive datetimes that are UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """RFC 3339 UTC with ``Z``, or None."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


def parse_ts(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a naive one is taken as UTC.

    Raises:
        ValueError: ``text`` is not a timestamp.
    """
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Encode ``obj`` (Struct, dict, list) with msgspec into a JSON response."""
    return Response(
        msgspec.json.encode(obj), status, headers=headers, media_type="application/json"
    )


def error_fields(exc: Exception, root: str = "body") -> dict[str, str]:
    """``{"field.path": "message"}`` of a msgspec decode or validation error."""
    match = _PATH.match(str(exc))
    msg = match.group("msg") if match else str(exc)
    path = ((match.group("path") if match else None) or "").lstrip(".")
    missing = _MISSING.search(msg)
    if missing:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    return {path or root: msg}


def _invalid(exc: Exception) -> ApiError:
    fields = error_fields(exc)
    return ApiError(422, "invalid_request", "The request body is invalid.", {"fields": fields})


def decode_json(raw: bytes, cls: type[T]) -> T:
    """Decode JSON bytes into ``cls``.

    Raises:
        ApiError: 422 ``invalid_request`` with ``details.fields`` on malformed or invalid JSON.
    """
    try:
        return msgspec.json.decode(raw, type=cls)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise _invalid(exc) from exc
    except UnicodeDecodeError as exc:
        fields = {"body": "the body is not valid UTF-8"}
        raise ApiError(
            422, "invalid_request", "The request body is invalid.", {"fields": fields}
        ) from exc


async def decode_body(request: Request, cls: type[T], limit: int) -> T:
    """Read the request body (at most ``limit`` bytes) and decode it into ``cls``.

    Raises:
        ApiError: 413 ``payload_too_large`` or 422 ``invalid_request``.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return decode_json(b"".join(chunks), cls)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "payload_too_large", "The request body is too large.", {"max_bytes": limit}
    )
