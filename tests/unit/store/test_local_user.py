"""Offline re-login against the remembered argon2id verifier."""

from __future__ import annotations

from agentdesk.domain import Channel, Role, User
from agentdesk.store import CacheDB
from agentdesk.store.local_user import (
    forget_user,
    local_users,
    remember_user,
    verify_local_user,
)

AGENT = User(
    user_id="li.na",
    name="李娜",
    role=Role.FIELD,
    channels=(Channel.FIELD_VISIT, Channel.PHONE),
    regions=("440100",),
)


def test_user_who_logged_in_before_can_log_in_offline(db: CacheDB) -> None:
    with db.writer() as w:
        remember_user(w, "li.na", AGENT, "s3cret!")
        stored = w.execute("SELECT password_verifier FROM local_user").fetchone()[0]
    assert "s3cret!" not in stored
    assert stored.startswith("$argon2id$")
    with db.reader() as r:
        ok = verify_local_user(r, "li.na", "s3cret!")
        wrong = verify_local_user(r, "li.na", "guess")
        stranger = verify_local_user(r, "wang", "s3cret!")
        names = local_users(r)
    assert ok is not None
    assert ok.user == AGENT
    assert wrong is None
    assert stranger is None
    assert names == ["li.na"]


def test_new_password_replaces_the_old_and_forget_removes(db: CacheDB) -> None:
    with db.writer() as w:
        remember_user(w, "li.na", AGENT, "old")
        remember_user(w, "li.na", AGENT, "new")
        assert verify_local_user(w, "li.na", "old") is None
        assert verify_local_user(w, "li.na", "new") is not None
        forget_user(w, "li.na")
        assert verify_local_user(w, "li.na", "new") is None
