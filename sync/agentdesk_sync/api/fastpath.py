"""A short way in for the hot write requests: push, claim and release.

A contact push or a claim costs the service a few hundred microseconds of its own work, and
about as much again in the generic request machinery (the route table walked route by route,
the dependency solver, the exception-middleware layers). :class:`FastPath` sits at the top of
the application's middleware stack and hands exactly three requests straight to their
endpoint functions:

* ``POST /v1/sync/push`` → :func:`agentdesk_sync.api.sync.push`;
* ``POST /v1/claims`` → :func:`agentdesk_sync.api.claims.acquire`;
* ``DELETE /v1/claims/{claim_id}`` → :func:`agentdesk_sync.api.claims.release`.

It resolves what the route's dependencies would (the app state, then the bearer token's
principal, in that order) and renders any exception with the application's own exception
handlers, so answers and error shapes are the same as through the router. Anything else
(other paths and methods, a trailing slash, a ``root_path``) goes the ordinary way. The routes
stay declared on their routers: ``/openapi.json`` does not change.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from agentdesk_sync.api.claims import acquire, release
from agentdesk_sync.api.sync import push
from agentdesk_sync.auth import current_principal
from agentdesk_sync.deps import get_state

__all__ = ["FastPath"]

_CLAIMS = "/v1/claims"
_CLAIM_PREFIX = "/v1/claims/"
_Handler = Callable[[Request, Any], Awaitable[Response]]


async def _push(request: Request, _tail: str) -> Response:
    state = get_state(request)
    return await push(request, state, await current_principal(request))


async def _acquire(request: Request, _tail: str) -> Response:
    state = get_state(request)
    return await acquire(request, state, await current_principal(request))


async def _release(request: Request, claim_id: str) -> Response:
    state = get_state(request)
    return await release(claim_id, state, await current_principal(request))


def _route(method: str, path: str) -> tuple[_Handler, str] | None:
    """The handler of one of the three hot requests and its path parameter, else None."""
    if method == "POST":
        if path == "/v1/sync/push":
            return _push, ""
        if path == _CLAIMS:
            return _acquire, ""
    elif method == "DELETE" and path.startswith(_CLAIM_PREFIX):
        claim_id = path[len(_CLAIM_PREFIX) :]
        if claim_id and "/" not in claim_id:  # the router's ``{claim_id}``: one segment
            return _release, claim_id
    return None


class FastPath:
    """ASGI middleware: the three hot requests straight to their endpoints (module docstring).

    Args:
        app: The application (its exception handlers render errors).
        inner: The rest of the middleware stack, for every other request.
    """

    def __init__(self, app: FastAPI, inner: ASGIApp) -> None:
        self.app = app
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            found = _route(scope["method"], scope["path"])
            if found is not None:
                await self._handle(found[0], found[1], scope, receive, send)
                return
        await self.inner(scope, receive, send)

    async def _handle(
        self, handler: _Handler, arg: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        request = Request(scope, receive, send)
        failure: Exception | None = None
        try:
            response = await handler(request, arg)
        except Exception as exc:
            found = self._handler_for(exc)
            if found is None:
                raise
            cls, render = found
            answer = render(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
            if cls is Exception:  # like the server-error layer: answered, then raised for the log
                failure = exc
        await response(scope, receive, send)
        if failure is not None:
            raise failure

    def _handler_for(self, exc: Exception) -> tuple[type, Callable[..., Any]] | None:
        """The application's handler of ``exc`` (nearest class first) and the class it is for."""
        handlers = self.app.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                return cls, handlers[cls]
        return None
