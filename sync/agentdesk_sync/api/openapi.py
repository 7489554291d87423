"""OpenAPI descriptions for endpoints that decode and encode with msgspec.

Hot endpoints read the raw body and answer ``Response(msgspec.json.encode(...))``; FastAPI then
knows nothing of their shapes. :func:`body` and :func:`answers` describe them with JSON Schema
references, and :func:`install` adds the msgspec-generated schemas of every wire DTO to
``components.schemas`` so that ``/openapi.json`` describes every request and response.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from agentdesk import protocol

__all__ = ["ERRORS", "answers", "body", "install", "ref"]

_REF = "#/components/schemas/{name}"
_DTOS: tuple[type[msgspec.Struct], ...] = (
    protocol.ClaimRequest,
    protocol.ClaimResponse,
    protocol.CustomerList,
    protocol.Eligibility,
    protocol.ErrorResponse,
    protocol.Health,
    protocol.LoginRequest,
    protocol.LoginResponse,
    protocol.PullResponse,
    protocol.PushRequest,
    protocol.PushResponse,
    protocol.Recommendations,
    protocol.RenewRequest,
)


def ref(cls: type[msgspec.Struct] | str) -> dict[str, str]:
    """A ``$ref`` to the schema of a wire DTO."""
    name = cls if isinstance(cls, str) else cls.__name__
    return {"$ref": _REF.format(name=name)}


def body(cls: type[msgspec.Struct]) -> dict[str, Any]:
    """``openapi_extra`` describing a required JSON request body of type ``cls``."""
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref(cls)}}}
    }


def _content(schema: dict[str, Any] | None) -> dict[str, Any]:
    return {"application/json": {"schema": schema}} if schema is not None else {}


def answers(
    ok: type[msgspec.Struct] | dict[str, Any] | None, status: int = 200, *errors: int
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the success body and the pinned error bodies."""
    schema = ref(ok) if isinstance(ok, type) else ok
    out: dict[int | str, dict[str, Any]] = {
        status: {"description": "OK", "content": _content(schema)}
    }
    for code in (*errors, 422):
        out[code] = {
            "description": ERRORS.get(code, "Error"),
            "content": _content(ref("ErrorResponse")),
        }
    return out


ERRORS = {
    400: "invalid_cursor",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict (claimed, lease_lost, policy_blocked, reset_required)",
    413: "payload_too_large",
    422: "invalid_request",
    503: "unavailable",
}


def _components() -> dict[str, Any]:
    _refs, components = msgspec.json.schema_components(_DTOS, ref_template=_REF)
    return components


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the schemas of every wire DTO."""

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, sub in _components().items():
            comps.setdefault(name, sub)
        bearer = {"type": "http", "scheme": "bearer"}
        schema["components"].setdefault("securitySchemes", {})["bearer"] = bearer
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
