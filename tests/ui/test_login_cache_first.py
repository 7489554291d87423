"""A user with a cache here: the login opens it while the service checks the password.

What the user notices: the verifier stored for offline logins is the password the service
accepted (never one it refused), and a refused login leaves the cache usable.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agentdesk.services.auth import AuthError, AuthService
from agentdesk.sync import ApiClient
from tests.ui.central import PASSWORD, Central
from tests.ui.desktop import desktop_auth


def _offline_api() -> ApiClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return ApiClient("http://127.0.0.1:9", transport=httpx.MockTransport(refuse))


def _online(tmp_path: Path, central: Central) -> AuthService:
    return desktop_auth(tmp_path, "dev-1", api=central.api)


def _offline(tmp_path: Path) -> AuthService:
    return desktop_auth(tmp_path, "dev-1", api=_offline_api)


def test_a_second_online_login_keeps_a_verifier_that_works_offline(
    tmp_path: Path, central: Central
) -> None:
    _online(tmp_path, central).login("agent1", PASSWORD).db.close()
    again = _online(tmp_path, central).login("agent1", PASSWORD)  # the cache exists now
    assert again.session.online
    again.db.close()
    offline = _offline(tmp_path).login("agent1", PASSWORD)
    assert not offline.session.online
    assert offline.session.user.name == "坐席一"
    offline.db.close()


def test_a_refused_password_never_becomes_the_offline_password(
    tmp_path: Path, central: Central
) -> None:
    _online(tmp_path, central).login("agent1", PASSWORD).db.close()
    with pytest.raises(AuthError, match="Wrong user name or password"):
        _online(tmp_path, central).login("agent1", "nope")
    with pytest.raises(AuthError, match="wrong user name or password"):
        _offline(tmp_path).login("agent1", "nope")
    offline = _offline(tmp_path).login("agent1", PASSWORD)  # the cache is still usable
    assert offline.session.user.name == "坐席一"
    offline.db.close()
    online = _online(tmp_path, central).login("agent1", PASSWORD)
    assert online.session.online
    online.db.close()


def test_a_refused_login_of_a_new_user_leaves_no_cache_behind(
    tmp_path: Path, central: Central
) -> None:
    with pytest.raises(AuthError, match="Wrong user name or password"):
        _online(tmp_path, central).login("agent1", "nope")
    assert not (tmp_path / "users" / "agent1").exists()


def test_a_login_through_a_client_built_beforehand_opens_the_session(
    tmp_path: Path, central: Central
) -> None:
    """Start-up builds the API client on the main thread and logs in with it on another."""
    auth = _online(tmp_path, central)
    first = auth.login("agent1", PASSWORD, auth.new_api())
    assert first.session.online
    assert first.session.user.name == "坐席一"
    assert first.api is not None
    first.db.close()
    again = auth.login("agent1", PASSWORD, auth.new_api())  # the cache exists: opened early
    assert again.session.online
    again.db.close()
    offline = _offline(tmp_path)
    result = offline.login("agent1", PASSWORD, offline.new_api())  # unreachable: offline login
    assert not result.session.online
    assert result.api is None
    result.db.close()
