"""Users who logged in on this machine before (the ``local_user`` table): offline re-login.

The password is kept only as an argon2id verifier. Until the store offers these two calls
itself they live here, on the store's own table and connections.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from agentdesk.domain import Channel, Role, User
from agentdesk.store import transaction

__all__ = ["LocalUserRecord", "remember_user", "verify_local_user"]

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True, slots=True)
class LocalUserRecord:
    """A remembered user."""

    username: str
    user: User
    last_login_at: str


def remember_user(conn: sqlite3.Connection, username: str, user: User, password: str) -> None:
    """Store (or refresh) the user and a verifier of ``password`` after an online login."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    row = (
        username,
        user.user_id,
        user.role.value,
        user.name,
        json.dumps({"items": [c.value for c in user.channels]}),
        json.dumps({"items": list(user.regions)}),
        _HASHER.hash(password),
        now,
    )
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
    """The remembered user when ``password`` matches its verifier, else None."""
    row = conn.execute(
        "SELECT user_id, role, name, channels, regions, password_verifier, last_login_at "
        "FROM local_user WHERE username = ?",
        (username,),
    ).fetchone()
    if row is None:
        return None
    user_id, role, name, channels, regions, verifier, last = row
    try:
        _HASHER.verify(verifier, password)
    except (VerificationError, InvalidHashError):
        return None
    user = User(
        user_id=user_id,
        name=name,
        role=Role(role),
        channels=tuple(Channel(c) for c in json.loads(channels)["items"]),
        regions=tuple(json.loads(regions)["items"]),
    )
    return LocalUserRecord(username=username, user=user, last_login_at=last)
