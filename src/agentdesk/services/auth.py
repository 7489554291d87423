"""Logging in: online through the service, or offline for a user who logged in here before.

Each user has their own cache file (shared store PCs: one clerk never sees another's outbox).
After an online login the password's argon2id verifier is kept in that file's ``local_user``
table, so the same user can log in again with no network and work on the cached scope.

Start-up: while the service checks the password, a helper thread opens the user's cache (when
this user has one here) and hashes that verifier; neither needs the service's answer, and the
wait for it releases the interpreter. The verifier is stored only once the service said yes,
on the cache's ``synchronous=NORMAL`` connection: that commit waits for no disk flush (each
online login writes it again).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agentdesk.domain import Channel, Role, User
from agentdesk.i18n import _
from agentdesk.services.dto import UserSession
from agentdesk.store import CacheDB, StoreError
from agentdesk.store.local_user import (
    LocalUserRecord,
    make_verifier,
    remember_user,
    verify_local_user,
)
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


class _EarlyOpen:
    """Opens a user's cache and hashes the password's verifier on a helper thread.

    Started before the login request, so both are done while the service checks the password.
    """

    def __init__(self, open_db: Callable[[], CacheDB], password: str) -> None:
        self._open_db = open_db
        self._password = password
        self._db: CacheDB | None = None
        self._error: BaseException | None = None
        self.verifier: str | None = None
        self._thread = threading.Thread(target=self._run, name="ad-login-cache", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._db = self._open_db()
            self.verifier = make_verifier(self._password)
        except BaseException as exc:  # re-raised in the login thread by db()
            self._error = exc

    def db(self) -> CacheDB:
        """The open cache (waits for the helper); raises what opening it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._db is not None
        return self._db

    def discard(self) -> None:
        """The login failed: close the cache if it was opened."""
        self._thread.join()
        if self._db is not None:
            self._db.close()


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

    def new_api(self) -> ApiClient:
        """A fresh API client of the service (what :meth:`login` uses when given none).

        Building it imports the HTTP transport (httpcore and what it pulls in): start-up builds
        it on the main thread, so the login thread has nothing left to import and its request
        leaves at once, instead of importing beside the window's own imports.
        """
        return self._api_factory(self._url)

    def login(self, username: str, password: str, api: ApiClient | None = None) -> LoginResult:
        """Log in online, or offline against the local verifier when the service is unreachable.

        Args:
            api: the client to log in with (from :meth:`new_api`); a new one when None. The
                result owns it (it is closed when the login fails).

        Raises:
            AuthError: wrong password, unknown offline user, or an unusable cache file.
        """
        if api is None:
            api = self.new_api()
        early = self._open_early(username, password)
        try:
            answer = api.login(username, password, self._device_id)
        except (Offline, ServerBusy):
            api.close()
            return self._offline(username, password, early)
        except BaseException as exc:
            api.close()
            if early is not None:
                early.discard()
            if isinstance(exc, AuthExpired):
                raise AuthError(_("Wrong user name or password.")) from exc
            if isinstance(exc, SyncError):
                raise AuthError(
                    _("The service refused the login ({code}).").format(code=exc.code)
                ) from exc
            raise
        info = answer.user
        user = User(
            user_id=info.id,
            name=info.name,
            role=Role(info.role),
            channels=tuple(Channel(c) for c in info.channels),
            regions=tuple(info.regions),
        )
        db = early.db() if early is not None else self._open(username)
        verifier = early.verifier if early is not None else None
        # synchronous=NORMAL (no fsync on the way to the window): every online login writes
        # the user and verifier again, so a power cut that loses this commit loses nothing
        # the next online login does not bring back
        with db.sync_writer() as conn:
            remember_user(conn, username, user, password, verifier=verifier)
        session = UserSession(
            user=user,
            device_id=self._device_id,
            cache_path=db.path,
            token=answer.token,
            online=True,
        )
        return LoginResult(session=session, db=db, api=api)

    def _open_early(self, username: str, password: str) -> _EarlyOpen | None:
        """Start opening the cache of a user who has one here (a first login makes it after
        the service said yes: a mistyped name never leaves an empty cache behind)."""
        if not self._cache_path(username).exists():
            return None
        return _EarlyOpen(lambda: self._open(username), password)

    def _offline(self, username: str, password: str, early: _EarlyOpen | None) -> LoginResult:
        path = self._cache_path(username)
        if early is None and not path.exists():
            raise AuthError(
                _(
                    "The service cannot be reached, and this user has never logged in on this "
                    "computer, so there is no offline copy to work with."
                )
            )
        db = early.db() if early is not None else self._open(username)
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
