"""Logging in: online through the service, or offline for a user who logged in here before.

Each user has their own cache file (shared store PCs: one clerk never sees another's outbox).
After an online login the password's argon2id verifier is kept in that file's ``local_user``
table, so the same user can log in again with no network and work on the cached scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agentdesk.domain import Channel, Role, User
from agentdesk.i18n import _
from agentdesk.services.dto import UserSession
from agentdesk.store import CacheDB, StoreError
from agentdesk.store.local_user import LocalUserRecord, remember_user, verify_local_user
from agentdesk.sync import ApiClient, AuthExpired, Offline, ServerBusy, SyncError

__all__ = ["AuthError", "AuthService", "LoginResult"]


class AuthError(Exception):
    """Login failed; ``sentence`` is what the login dialog shows."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass
class LoginResult:
    """What a successful login opens: the session, its cache, and the API (None offline)."""

    session: UserSession
    db: CacheDB
    api: ApiClient | None

    @property
    def recovery_sentence(self) -> str | None:
        """Set once when a damaged cache was moved aside at open."""
        report = self.db.recovery
        if report is None:
            return None
        return str(getattr(report, "sentence", "") or report)


def _default_api(url: str) -> ApiClient:
    """The API client of ``url``; a plain-http URL skips loading the TLS trust store.

    httpx builds its transport's TLS context (the CA bundle: tens of milliseconds of a cold
    start) even for ``http://``. The client never follows redirects and only calls paths under
    ``url``, so a plain-http service never uses TLS through this transport.
    """
    if url.lower().startswith("http://"):
        import httpx

        return ApiClient(url, transport=httpx.HTTPTransport(verify=False))
    return ApiClient(url)


class AuthService:
    """Logs users in.

    Args:
        cache_path: maps a username to its cache file.
        service_url: the central service.
        device_id: this installation's id.
        api_factory: builds the API client (tests pass one bound to an in-process app).
    """

    def __init__(
        self,
        cache_path: Callable[[str], Path],
        service_url: str,
        device_id: str,
        api_factory: Callable[[str], ApiClient] | None = None,
    ) -> None:
        self._cache_path = cache_path
        self._url = service_url
        self._device_id = device_id
        self._api_factory = api_factory or _default_api

    def login(self, username: str, password: str) -> LoginResult:
        """Log in online, or offline against the local verifier when the service is unreachable.

        Raises:
            AuthError: wrong password, unknown offline user, or an unusable cache file.
        """
        api = self._api_factory(self._url)
        try:
            answer = api.login(username, password, self._device_id)
        except AuthExpired as exc:
            api.close()
            raise AuthError(_("Wrong user name or password.")) from exc
        except (Offline, ServerBusy):
            api.close()
            return self._offline(username, password)
        except SyncError as exc:
            api.close()
            raise AuthError(
                _("The service refused the login ({code}).").format(code=exc.code)
            ) from exc
        info = answer.user
        user = User(
            user_id=info.id,
            name=info.name,
            role=Role(info.role),
            channels=tuple(Channel(c) for c in info.channels),
            regions=tuple(info.regions),
        )
        db = self._open(username)
        with db.writer() as conn:
            remember_user(conn, username, user, password)
        session = UserSession(
            user=user,
            device_id=self._device_id,
            cache_path=db.path,
            token=answer.token,
            online=True,
        )
        return LoginResult(session=session, db=db, api=api)

    def _offline(self, username: str, password: str) -> LoginResult:
        path = self._cache_path(username)
        if not path.exists():
            raise AuthError(
                _(
                    "The service cannot be reached, and this user has never logged in on this "
                    "computer, so there is no offline copy to work with."
                )
            )
        db = self._open(username)
        with db.reader() as conn:
            record: LocalUserRecord | None = verify_local_user(conn, username, password)
        if record is None:
            db.close()
            raise AuthError(_("Offline login failed: wrong user name or password."))
        session = UserSession(
            user=record.user,
            device_id=self._device_id,
            cache_path=db.path,
            token=None,
            online=False,
        )
        return LoginResult(session=session, db=db, api=None)

    def _open(self, username: str) -> CacheDB:
        try:
            return CacheDB.open(self._cache_path(username))
        except StoreError as exc:
            raise AuthError(exc.sentence) from exc
