"""Push, claim and release take a short way past the router: failures still answer in the
pinned error shape, and requests that only look like them still get the router's answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from agentdesk_sync import claims, ledger
from agentdesk_sync.app import create_app

from .conftest import Api


@pytest.fixture
def lenient(store: str) -> Iterator[Api]:
    """The app behind a TestClient that answers server errors instead of raising them."""
    with TestClient(create_app(store), raise_server_exceptions=False) as client:
        yield Api(client)


def _error(resp: object) -> dict[str, object]:
    body = resp.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]  # type: ignore[no-any-return]


def test_a_bug_in_a_push_answers_500_internal(
    lenient: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ledger, "push", broken)
    resp = lenient.post("cc1", "/v1/sync/push", {"device_id": "d1", "items": []})
    assert resp.status_code == 500
    error = _error(resp)
    assert error["code"] == "internal"
    assert "secret" not in str(error["message"])


def test_a_lost_database_during_a_claim_answers_503_with_retry_after(
    lenient: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def lost(*_args: object) -> None:
        raise OperationalError("BEGIN", {}, Exception("connection lost"))

    monkeypatch.setattr(claims, "acquire", lost)
    resp = lenient.post(
        "cc1", "/v1/claims", {"customer_id": "C00000001", "channel": "outbound_call"}
    )
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "2"
    assert _error(resp)["code"] == "unavailable"


def test_a_push_without_a_token_is_unauthorized_before_its_body_is_read(api: Api) -> None:
    resp = api.client.post("/v1/sync/push", content=b"not json")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert _error(resp)["code"] == "unauthorized"


def test_a_malformed_claim_body_is_invalid_request(api: Api) -> None:
    resp = api.client.post("/v1/claims", content=b"{", headers=api.headers("cc1"))
    assert resp.status_code == 422
    assert _error(resp)["code"] == "invalid_request"


def test_lookalike_paths_and_methods_get_the_router_answers(api: Api) -> None:
    wrong_method = api.get("cc1", "/v1/sync/push")
    assert wrong_method.status_code == 405
    assert _error(wrong_method)["code"] == "method_not_allowed"
    too_deep = api.delete("cc1", "/v1/claims/abc/def")
    assert too_deep.status_code in (404, 405)
    assert _error(too_deep)["code"] in ("not_found", "method_not_allowed")
    released = api.delete("cc1", "/v1/claims/no-such-claim")
    assert released.status_code == 204
