"""Users who logged in on this machine before: offline re-login (``local_user`` table).

After an online login the app remembers the user and an argon2id verifier of the password
(never the password). Offline, :func:`verify_local_user` checks a typed password against it, so
an account manager in a basement can still open the laptop and log outcomes. The cache file is
per user, so the app opens ``open_user_cache(username)`` first and verifies there.
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from agentdesk.domain import Channel, Role, User
from agentdesk.store.codec import dumps, loads, now_text
from agentdesk.store.db import transaction

__all__ = [
    "LocalUserRecord",
    "forget_user",
    "local_users",
    "make_verifier",
    "remember_user",
    "verify_local_user",
]


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2id with OWASP's 19 MiB / 2 passes profile (fast enough for a login, ~20 ms)."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True, slots=True)
class LocalUserRecord:
    """A remembered user and when they last logged in online."""

    username: str
    user: User
    last_login_at: str


def make_verifier(password: str) -> str:
    """The argon2id verifier of ``password`` (what :func:`remember_user` keeps)."""
    return _hasher().hash(password)


def remember_user(
    conn: sqlite3.Connection,
    username: str,
    user: User,
    password: str,
    *,
    verifier: str | None = None,
) -> None:
    """Store (or refresh) ``user`` and a verifier of ``password`` after an online login.

    Args:
        conn: the writer connection.
        username: the login name.
        user: who the server said this is.
        password: the password that just worked online (only its argon2id hash is kept).
        verifier: ``make_verifier(password)`` when it was made already (the login hashes
            while the service checks the password).

    Raises:
        StoreError: nothing was saved.
    """
    row = (
        username, user.user_id, user.role.value, user.name,
        dumps({"items": [c.value for c in user.channels]}), dumps({"items": list(user.regions)}),
        verifier or make_verifier(password), now_text(),
    )  # fmt: skip
    with transaction(conn):
        conn.execute(
            "INSERT INTO local_user (username, user_id, role, name, channels, regions, "
            "password_verifier, last_login_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(username) DO UPDATE SET user_id = excluded.user_id, role = excluded.role, "
            "name = excluded.name, channels = excluded.channels, regions = excluded.regions, "
            "password_verifier = excluded.password_verifier, "
            "last_login_at = excluded.last_login_at",
            row,
        )


def verify_local_user(
    conn: sqlite3.Connection, username: str, password: str
) -> LocalUserRecord | None:
    """The remembered user when ``password`` matches the stored verifier, else ``None``."""
    row = conn.execute(
        "SELECT user_id, role, name, channels, regions, password_verifier, last_login_at "
        "FROM local_user WHERE username = ?",
        (username,),
    ).fetchone()
    if row is None:
        return None
    try:
        _hasher().verify(row[5], password)
    except (VerificationError, InvalidHashError):
        return None
    return _record(username, row)


def local_users(conn: sqlite3.Connection) -> list[str]:
    """Usernames remembered in this cache, most recent login first."""
    rows = conn.execute("SELECT username FROM local_user ORDER BY last_login_at DESC")
    return [str(r[0]) for r in rows]


def forget_user(conn: sqlite3.Connection, username: str) -> None:
    """Remove a remembered user (offline login no longer possible)."""
    with transaction(conn):
        conn.execute("DELETE FROM local_user WHERE username = ?", (username,))


def _record(username: str, row: tuple[str, ...]) -> LocalUserRecord:
    user_id, role, name, channels, regions, _verifier, last = row
    user = User(
        user_id=user_id,
        name=name,
        role=Role(role),
        channels=tuple(Channel(c) for c in loads(channels)["items"]),
        regions=tuple(loads(regions)["items"]),
    )
    return LocalUserRecord(username=username, user=user, last_login_at=last)
