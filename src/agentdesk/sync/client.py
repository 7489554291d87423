"""Typed client of the central API v1 over ONE long-lived ``httpx.Client``.

Every method returns a :mod:`agentdesk.protocol` struct and raises an
:mod:`agentdesk.sync.errors` error chosen by kind (network, auth, scope, conflict, bug), so
callers never see ``httpx`` exceptions. Tests inject ``transport=`` (``httpx.MockTransport``) or a
ready ``client=`` (Starlette's ``TestClient`` is an ``httpx.Client``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import httpx
import msgspec

from agentdesk.protocol import (
    ClaimRequest,
    ClaimResponse,
    CustomerList,
    Eligibility,
    Health,
    LoginRequest,
    LoginResponse,
    PushItem,
    PushRequest,
    PushResponse,
    Recommendations,
    RenewRequest,
)
from agentdesk.protocol.raw import RawPullPage, RawPushItem, RawPushRequest
from agentdesk.sync.errors import Offline, ProtocolError
from agentdesk.sync.httperrors import error_for_response
from agentdesk.sync.sse import ServerEvent, parse_events

__all__ = ["DEFAULT_TIMEOUT", "ApiClient"]

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=3.0)


def _timeout(seconds: float) -> dict[str, float]:
    """A request's own timeouts, as httpx's ``timeout`` request extension carries them."""
    return httpx.Timeout(seconds).as_dict()  # type: ignore[return-value]


class ApiClient:
    """The client of API v1.

    Args:
        base_url: the service root, e.g. ``http://127.0.0.1:8765``.
        token: a bearer token from an earlier login, if any.
        transport: an ``httpx`` transport for tests (ignored when ``client`` is given).
        client: a ready ``httpx.Client`` (its ``base_url`` is used as is).
        timeout: timeouts of the owned client (connect 3 s, read 30 s by default).
    """

    def __init__(
        self,
        base_url: str = "",
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._owned = client is None
        self._http = client or httpx.Client(base_url=base_url, transport=transport, timeout=timeout)
        self.token = token

    def close(self) -> None:
        """Close the HTTP client when this object created it."""
        if self._owned:
            self._http.close()

    # -- session -------------------------------------------------------------------------------

    def login(self, username: str, password: str, device_id: str) -> LoginResponse:
        """Log in; the returned token is kept for every later call."""
        body = LoginRequest(username=username, password=password, device_id=device_id)
        answer = self._call("POST", "/v1/auth/login", LoginResponse, body=body, auth=False)
        self.token = answer.token
        return answer

    def health(self) -> Health:
        """``GET /v1/health`` (no token needed)."""
        return self._call("GET", "/v1/health", Health, auth=False)

    # -- customers -----------------------------------------------------------------------------

    def customer(self, customer_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        """The unified customer view of one customer (``timeout``: seconds for this request,
        instead of the client's)."""
        return self._call("GET", f"/v1/customers/{customer_id}", dict[str, Any], timeout=timeout)

    def search(
        self, *, msisdn: str | None = None, q: str | None = None, timeout: float | None = None
    ) -> CustomerList:
        """Customers by exact ``msisdn`` or free text ``q`` (``timeout`` as :meth:`customer`)."""
        params = {k: v for k, v in (("msisdn", msisdn), ("q", q)) if v is not None}
        return self._call("GET", "/v1/customers", CustomerList, params=params, timeout=timeout)

    def eligibility(
        self, customer_id: str, channel: str, campaign_id: str | None = None
    ) -> Eligibility:
        """The server's policy decision for contacting ``customer_id`` on ``channel`` now."""
        params = {"channel": channel} | ({"campaign_id": campaign_id} if campaign_id else {})
        path = f"/v1/customers/{customer_id}/eligibility"
        return self._call("GET", path, Eligibility, params=params)

    def recommendations(self, customer_id: str, channel: str) -> Recommendations:
        """The ranked offers for ``customer_id`` on ``channel``."""
        path = f"/v1/customers/{customer_id}/recommendations"
        return self._call("GET", path, Recommendations, params={"channel": channel})

    # -- claims --------------------------------------------------------------------------------

    def acquire_claim(
        self, customer_id: str, channel: str, *, purpose: str = "contact", ttl_s: int = 900
    ) -> ClaimResponse:
        """Claim a customer (raises ``Claimed`` or ``PolicyBlocked`` on 409)."""
        body = ClaimRequest(customer_id=customer_id, channel=channel, purpose=purpose, ttl_s=ttl_s)
        return self._call("POST", "/v1/claims", ClaimResponse, body=body)

    def renew_claim(self, claim_id: str, *, ttl_s: int = 900) -> ClaimResponse:
        """Extend a claim (raises ``LeaseLost`` when it expired or was superseded)."""
        path = f"/v1/claims/{claim_id}/renew"
        return self._call("POST", path, ClaimResponse, body=RenewRequest(ttl_s=ttl_s))

    def release_claim(self, claim_id: str) -> None:
        """Give a claim back."""
        self._send("DELETE", f"/v1/claims/{claim_id}")

    # -- sync ----------------------------------------------------------------------------------

    def push(self, device_id: str, items: list[PushItem] | list[RawPushItem]) -> PushResponse:
        """Push outbox items; per-item results come back in request order.

        Items may carry their payload as stored JSON text (:class:`RawPushItem`): the body is
        the same JSON either way.
        """
        key = hashlib.sha256("\n".join(i.id for i in items).encode()).hexdigest()[:32]
        body: PushRequest | RawPushRequest
        if items and isinstance(items[0], RawPushItem):
            body = RawPushRequest(device_id=device_id, items=items)
        else:
            body = PushRequest(device_id=device_id, items=cast(list[PushItem], items))
        headers = {"Idempotency-Key": key}
        return self._call("POST", "/v1/sync/push", PushResponse, body=body, headers=headers)

    def pull(self, cursor: str, *, limit: int | None = None) -> RawPullPage:
        """One page of the change feed after ``cursor`` (empty: start with the snapshot).

        Rows stay undecoded JSON (:class:`msgspec.Raw` spans of the answer): the store decodes
        only the columns it indexes and keeps the text as it came.
        """
        params: dict[str, Any] = {"cursor": cursor}
        if limit is not None:
            params["limit"] = limit
        return self._call("GET", "/v1/sync/pull", RawPullPage, params=params)

    @contextmanager
    def events(self, *, read_timeout: float = 30.0) -> Iterator[Iterator[ServerEvent]]:
        """Open ``GET /v1/events`` and yield an iterator of its events.

        Args:
            read_timeout: seconds of silence after which the stream raises ``Offline``.

        Raises:
            Offline: the stream could not be opened, or broke.
        """
        timeout = httpx.Timeout(read_timeout, connect=DEFAULT_TIMEOUT.connect)
        headers = self._headers(auth=True) | {"Accept": "text/event-stream"}
        try:
            with self._http.stream("GET", "/v1/events", headers=headers, timeout=timeout) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise error_for_response(resp)
                yield _guard(parse_events(resp.iter_lines()))
        except httpx.TransportError as exc:
            raise Offline(str(exc)) from exc

    # -- plumbing ------------------------------------------------------------------------------

    def _headers(self, *, auth: bool) -> dict[str, str]:
        if auth and self.token:
            return {"Authorization": f"Bearer {self.token}"}
        return {}

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        timeout: float | None = None,
    ) -> httpx.Response:
        all_headers = self._headers(auth=auth) | (headers or {})
        content = None
        if body is not None:
            content = msgspec.json.encode(body)
            all_headers["Content-Type"] = "application/json"
        try:
            resp = self._http.request(
                method, path, content=content, params=params, headers=all_headers,
                extensions=None if timeout is None else {"timeout": _timeout(timeout)},
            )  # fmt: skip
        except httpx.TransportError as exc:
            timed_out = isinstance(exc, httpx.TimeoutException)
            raise Offline(f"{type(exc).__name__}: {exc}", details={"timeout": timed_out}) from exc
        if resp.status_code >= 400:
            raise error_for_response(resp)
        return resp

    def _call(self, method: str, path: str, kind: type[T], **kwargs: Any) -> T:
        resp = self._send(method, path, **kwargs)
        try:
            return msgspec.json.decode(resp.content, type=kind)
        except msgspec.ValidationError as exc:
            raise ProtocolError(f"{method} {path}: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise Offline(f"{method} {path}: truncated answer: {exc}") from exc


def _guard(events: Iterator[ServerEvent]) -> Iterator[ServerEvent]:
    """End the stream quietly on a read timeout; re-raise other transport errors as ``Offline``."""
    try:
        yield from events
    except httpx.ReadTimeout:
        return
    except httpx.TransportError as exc:
        raise Offline(f"{type(exc).__name__}: {exc}") from exc
