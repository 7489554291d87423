"""Errors of the HTTP API v1 and the handlers that render them in the pinned shape.

Every error leaves the service as ``{"error": {"code", "message", "details"}}``
(docs/api.md). The tree:

* :class:`ApiError` — a deliberate answer with a status and a snake_case code
  (``unauthorized`` 401, ``forbidden`` 403, ``not_found`` 404, ``invalid_request`` 422,
  ``invalid_cursor`` 400, ``reset_required``/``claimed``/``lease_lost``/``policy_blocked`` 409,
  ``payload_too_large`` 413, ``unavailable`` 503);
* environmental failures of the database (connection lost, server restarting) become
  503 ``unavailable`` with ``Retry-After``;
* anything else is a bug: 500 ``internal`` without internals in the message.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

__all__ = [
    "ApiError",
    "error_response",
    "install_handlers",
    "is_transient_db_error",
    "validation_fields",
]

_LOG = logging.getLogger(__name__)
RETRY_AFTER_S = 2
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    """A deliberate error answer of the API.

    Args:
        status: HTTP status code.
        code: Pinned snake_case error code.
        message: One sentence for a human.
        details: Machine-readable details.
        headers: Extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build a response in the pinned error shape."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(
        msgspec.json.encode(body), status, headers=headers, media_type="application/json"
    )


def validation_fields(errors: Any) -> dict[str, str]:
    """Map FastAPI/pydantic validation errors to ``{"field.path": "message"}``."""
    fields: dict[str, str] = {}
    for err in errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
        fields[".".join(loc) or "body"] = str(err.get("msg", "invalid"))
    return fields


def is_transient_db_error(exc: BaseException) -> bool:
    """True for database failures that a retry may cure (lost connection, lock, restart)."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        return sqlstate[:2] in ("40", "55", "57", "08", "53")
    return isinstance(exc, (ConnectionError, OSError))


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = validation_fields(exc.errors())
    return error_response(422, "invalid_request", "The request is invalid.", {"fields": fields})


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = str(exc.detail) if exc.detail else code.replace("_", " ")
    return error_response(exc.status_code, code, message, {}, dict(exc.headers or {}))


async def _db_error(_request: Request, exc: Exception) -> Response:
    if is_transient_db_error(exc):
        _LOG.warning("database unavailable: %s", exc)
        return error_response(
            503,
            "unavailable",
            "The database is unavailable; retry shortly.",
            {"retry_after_s": RETRY_AFTER_S},
            {"Retry-After": str(RETRY_AFTER_S)},
        )
    return await _unexpected(_request, exc)


async def _unexpected(_request: Request, exc: Exception) -> Response:
    _LOG.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal", "An unexpected error occurred.")


def install_handlers(app: FastAPI) -> None:
    """Register the exception handlers that render every error in the pinned shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _db_error)
    app.add_exception_handler(PoolTimeoutError, _db_error)
    app.add_exception_handler(OSError, _db_error)
    app.add_exception_handler(Exception, _unexpected)
