"""Login, tokens and the 401/403 matrix per role."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from agentdesk_sync import auth
from agentdesk_sync.auth import TOKEN_CACHE_S, create_user
from agentdesk_sync.db import models as m

from .conftest import Api


def test_health_needs_no_token_and_names_the_database(api: Api, db_url: str) -> None:
    resp = api.client.get("/v1/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["db"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    assert body["version"]


def test_openapi_is_public_and_describes_push(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    push = spec["paths"]["/v1/sync/push"]["post"]
    assert push["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PushRequest"
    )
    assert "PushResponse" in spec["components"]["schemas"]


def test_login_returns_a_token_that_works(api: Api) -> None:
    resp = api.client.post(
        "/v1/auth/login", json={"username": "cc1", "password": "pw-cc1", "device_id": "d1"}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["user"] == {
        "id": "cc1",
        "name": "CC1",
        "role": "call_centre",
        "channels": ["inbound_call", "outbound_call"],
        "regions": ["440100"],
    }
    assert body["expires_at"].endswith("Z")
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert api.client.get("/v1/customers/C00000001", headers=headers).status_code == 200


def test_wrong_password_and_unknown_user_are_401(api: Api) -> None:
    for user, pw in (("cc1", "nope"), ("ghost", "pw")):
        resp = api.client.post(
            "/v1/auth/login", json={"username": user, "password": pw, "device_id": "d"}
        )
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "unauthorized"


def test_logout_revokes_the_token(api: Api) -> None:
    token = api.client.post(
        "/v1/auth/login", json={"username": "st1", "password": "pw-st1", "device_id": "d"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.post("/v1/auth/logout", headers=headers).status_code == 204
    resp = api.client.get("/v1/customers/C00000003", headers=headers)
    assert resp.status_code == 401


def test_tokens_cached_together_are_checked_again_at_different_moments_within_the_bound(
    api: Api, sync_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token revoked by another service process (straight in the database) is refused within
    TOKEN_CACHE_S; tokens first used at the same moment do not all come due at once."""
    now = [1000.0]
    draws = iter([0.0, 0.99])  # the first token's cache entry lives longest, the second least
    monkeypatch.setattr(auth, "_clock", lambda: now[0])
    monkeypatch.setattr(auth, "_draw", lambda: next(draws))
    headers = []
    for device in ("d1", "d2"):
        login = {"username": "st1", "password": "pw-st1", "device_id": device}
        token = api.client.post("/v1/auth/login", json=login).json()["token"]
        headers.append({"Authorization": f"Bearer {token}"})
    for h in headers:  # both used (and cached) at the same moment
        assert api.client.get("/v1/customers/C00000003", headers=h).status_code == 200
    with sync_engine.begin() as conn:
        conn.execute(update(m.AuthToken).values(revoked=True))

    def statuses() -> list[int]:
        return [api.client.get("/v1/customers/C00000003", headers=h).status_code for h in headers]

    now[0] += 0.8 * TOKEN_CACHE_S
    assert statuses() == [200, 401]  # the second came due first
    now[0] += 0.2 * TOKEN_CACHE_S
    assert statuses() == [401, 401]  # none outlives the bound


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/customers/C00000001"),
        ("GET", "/v1/customers?q=1380000"),
        ("GET", "/v1/customers/C00000001/eligibility?channel=outbound_call"),
        ("GET", "/v1/customers/C00000001/recommendations?channel=outbound_call"),
        ("POST", "/v1/claims"),
        ("POST", "/v1/claims/x/renew"),
        ("DELETE", "/v1/claims/x"),
        ("POST", "/v1/sync/push"),
        ("GET", "/v1/sync/pull"),
        ("GET", "/v1/events"),
        ("POST", "/v1/auth/logout"),
    ],
)
def test_every_endpoint_but_health_and_login_needs_a_token(
    api: Api, method: str, path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        resp = api.client.request(method, path, headers=headers)
        assert resp.status_code == 401, (path, headers)
        assert resp.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("user", "customer", "status"),
    [
        ("cc1", "C00000001", 200),
        ("cc1", "C00000003", 403),
        ("st1", "C00000003", 200),
        ("st1", "C00000001", 403),
        ("fa1", "C00000003", 200),
        ("fa1", "C00000004", 403),
        ("sup", "C00000001", 200),
        ("sup", "C00000004", 200),
        ("adm", "C00000002", 200),
        ("cc1", "C99999999", 404),
    ],
)
def test_customer_scope_per_role(api: Api, user: str, customer: str, status: int) -> None:
    resp = api.get(user, f"/v1/customers/{customer}")
    assert resp.status_code == status
    if status != 200:
        assert resp.json()["error"]["code"] == {403: "forbidden", 404: "not_found"}[status]


def test_supervisors_and_admins_cannot_claim(api: Api) -> None:
    for user in ("sup", "adm"):
        resp = api.post(
            user, "/v1/claims", {"customer_id": "C00000001", "channel": "outbound_call"}
        )
        assert resp.status_code == 403
        assert resp.json()["error"]["code"] == "forbidden"


def test_create_user_then_login(api: Api, sync_engine: object) -> None:
    with Session(sync_engine) as session:  # type: ignore[call-overload]
        create_user(session, "new1", "s3cret!", "field", [], [], ["C00000004"], name="王五")
        session.commit()
    resp = api.client.post(
        "/v1/auth/login", json={"username": "new1", "password": "s3cret!", "device_id": "d"}
    )
    assert resp.status_code == 200
    assert resp.json()["user"]["role"] == "field"
    token = resp.json()["token"]
    assert (
        api.client.get(
            "/v1/customers/C00000004", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    assert (
        api.client.get(
            "/v1/customers/C00000003", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 403
    )
