"""Users, passwords and bearer tokens; the :class:`Principal` every endpoint acts for.

Passwords are hashed with argon2id (memory-hard). A token is 32 random bytes, url-safe; only
its SHA-256 is stored (``auth_token``), it lives 12 hours and can be revoked. The staff id of
every contact comes from the token, never from a request body.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from agentdesk.domain import Channel, Role
from agentdesk_sync.api.wire import as_utc, utcnow
from agentdesk_sync.db.models import AppUser, AuthToken, Portfolio
from agentdesk_sync.deps import get_state
from agentdesk_sync.errors import ApiError

__all__ = [
    "TOKEN_TTL",
    "IssuedToken",
    "Principal",
    "PrincipalDep",
    "create_user",
    "current_principal",
    "forget_token",
    "issue_token",
    "revoke_token",
    "token_hash",
    "verify_login",
]

TOKEN_TTL = timedelta(hours=12)
TOKEN_CACHE_S = 10.0  # a token revoked by another service process is refused within 10 s
# each cached token lives a random 75-100 % of TOKEN_CACHE_S, so tokens cached together (every
# agent's first request after a start) do not all expire together: their lookups spread out
# instead of arriving as one burst every TOKEN_CACHE_S that opens extra pool connections
_TOKEN_CACHE_SPREAD = 0.25
_clock = time.monotonic  # the token cache's clock (a test sets its own)
_draw = random.random  # where in the spread an entry's lifetime falls (a test sets its own)
_TOKEN_CACHE_MAX = 10_000
_HASHER = PasswordHasher()  # argon2id, 64 MiB, t=3: immutable, thread-safe


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated user a request acts for.

    Attributes:
        user_id: The user id (= username).
        name: Display name.
        role: The user's role.
        channels: Channels the user contacts customers on.
        regions: Region codes the user sees (call centre, store, supervisor).
        token_hash: SHA-256 of the bearer token of this request.
    """

    user_id: str
    name: str
    role: Role
    channels: tuple[Channel, ...]
    regions: tuple[str, ...]
    token_hash: str = ""

    @property
    def sees_all(self) -> bool:
        """Supervisors and admins without a region see every customer."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN) and not self.regions

    @property
    def uses_portfolio(self) -> bool:
        """Field account managers see only their portfolio."""
        return self.role is Role.FIELD

    @property
    def contacts_customers(self) -> bool:
        """Supervisors and admins never contact or claim customers."""
        return self.role.contacts_customers


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly issued bearer token (the clear text is shown once)."""

    token: str
    expires_at: datetime
    principal: Principal


def token_hash(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _items(values: Any) -> tuple[str, ...]:
    if isinstance(values, dict):
        values = values.get("items", [])
    return tuple(str(v) for v in values or ())


def _principal(row: Any, digest: str = "") -> Principal:
    role = Role(row.role)
    channels = tuple(Channel(c) for c in _items(row.channels)) or role.channels
    return Principal(row.user_id, row.name, role, channels, _items(row.regions), digest)


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str | Role,
    regions: list[str] | tuple[str, ...] = (),
    channels: list[str] | tuple[str, ...] = (),
    portfolio: list[str] | tuple[str, ...] = (),
    *,
    name: str | None = None,
) -> None:
    """Create a user, or replace one with the same username (password, role, scope).

    The caller commits. Use ``await async_session.run_sync(create_user, ...)`` from async code.

    Args:
        session: A sync SQLAlchemy session.
        username: Login name; also the user id.
        password: Clear-text password (hashed with argon2id).
        role: One of :class:`Role`.
        regions: Region codes (call centre, store, supervisor).
        channels: Channels; empty means the role's defaults.
        portfolio: Customer ids of a field account manager.
        name: Display name (defaults to the username).

    Raises:
        ValueError: Unknown role or channel.
    """
    role_value = Role(role).value
    channel_values = [Channel(c).value for c in channels]
    values = {
        "username": username,
        "name": name or username,
        "role": role_value,
        "channels": {"items": channel_values},
        "regions": {"items": list(regions)},
        "password_hash": _HASHER.hash(password),
    }
    exists = session.execute(select(AppUser.user_id).where(AppUser.user_id == username)).first()
    if exists:
        session.execute(update(AppUser).where(AppUser.user_id == username).values(**values))
        session.execute(delete(Portfolio).where(Portfolio.user_id == username))
    else:
        session.execute(insert(AppUser).values(user_id=username, created_at=utcnow(), **values))
    if portfolio:
        rows = [{"user_id": username, "customer_id": cid} for cid in dict.fromkeys(portfolio)]
        session.execute(insert(Portfolio), rows)
    session.flush()


async def verify_login(session: AsyncSession, username: str, password: str) -> Principal:
    """Check a username and password.

    Raises:
        ApiError: 401 ``unauthorized`` for an unknown user or a wrong password.
    """
    cols = (AppUser.user_id, AppUser.name, AppUser.role, AppUser.channels, AppUser.regions)
    row = None
    if "\x00" not in username:  # no user has one (and PostgreSQL text cannot hold it)
        row = (
            await session.execute(
                select(*cols, AppUser.password_hash).where(AppUser.username == username)
            )
        ).first()
        await session.rollback()  # never hold a (SQLite) transaction across the argon2 check
    stored = row.password_hash if row else _HASHER.hash("x")  # same cost for unknown users
    try:
        await anyio.to_thread.run_sync(_HASHER.verify, stored, password)
    except (VerificationError, InvalidHashError) as exc:
        raise _unauthorized("Wrong username or password.") from exc
    if row is None:
        raise _unauthorized("Wrong username or password.")
    return _principal(row)


async def issue_token(session: AsyncSession, principal: Principal, device_id: str) -> IssuedToken:
    """Store a new token for ``principal`` and commit."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + TOKEN_TTL
    await session.execute(
        insert(AuthToken).values(
            token_hash=token_hash(token),
            user_id=principal.user_id,
            device_id=device_id[:64],
            expires_at=expires,
            revoked=False,
            created_at=now,
        )
    )
    await session.commit()
    return IssuedToken(token, expires, principal)


async def revoke_token(session: AsyncSession, digest: str) -> None:
    """Revoke the token with SHA-256 ``digest`` and commit."""
    await session.execute(
        update(AuthToken).where(AuthToken.token_hash == digest).values(revoked=True)
    )
    await session.commit()


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("A bearer token is required.")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the user of a valid, unexpired, unrevoked bearer token.

    A token looked up in the last :data:`TOKEN_CACHE_S` seconds is answered from the app's
    token cache (logout drops it at once, see :func:`forget_token`). Each entry lives a random
    75-100 % of that time, so the lookups of tokens cached at the same moment spread out.

    Raises:
        ApiError: 401 ``unauthorized``.
    """
    digest = token_hash(_bearer(request))
    state = get_state(request)
    now = utcnow()
    cached = state.token_cache.get(digest)
    if cached is not None and _clock() < cached[0] and cached[2] > now:
        principal: Principal = cached[1]
        return principal
    async with state.engine.connect() as conn:
        row = (await conn.execute(_TOKEN_LOOKUP, {"digest": digest})).first()
    if row is None or row.revoked or as_utc(row.expires_at) <= now:
        state.token_cache.pop(digest, None)
        raise _unauthorized("The token is missing, expired or revoked.")
    principal = _principal(row, digest)
    if len(state.token_cache) >= _TOKEN_CACHE_MAX:
        state.token_cache.clear()
    lifetime = TOKEN_CACHE_S * (1.0 - _TOKEN_CACHE_SPREAD * _draw())
    state.token_cache[digest] = (_clock() + lifetime, principal, as_utc(row.expires_at))
    return principal


_TOKEN_COLS = (AppUser.user_id, AppUser.name, AppUser.role, AppUser.channels, AppUser.regions)
_TOKEN_LOOKUP = (  # built once: the lookup runs every TOKEN_CACHE_S per token
    select(*_TOKEN_COLS, AuthToken.expires_at, AuthToken.revoked)
    .join(AuthToken, AuthToken.user_id == AppUser.user_id)
    .where(AuthToken.token_hash == bindparam("digest"))
)


def forget_token(request: Request, digest: str) -> None:
    """Drop a (revoked) token from the app's token cache."""
    get_state(request).token_cache.pop(digest, None)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
