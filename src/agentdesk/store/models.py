"""Schema of the client's local cache (SQLAlchemy 2 declarative; docs/sync.md).

Big synced tables (``customer``, ``holding``, ``customer_usage``, ``target_member``,
``marketing_order``, ``contact``) keep an INTEGER rowid primary key and their string id in a
unique column: random TEXT keys cost 4x on insert (bench/README.md). Every synced row keeps its
wire form in ``row`` (JSON text) and ``row_seq`` = the server_seq of its last change. The few
columns lists filter, sort or search on are copied out of ``row``.

``outbox`` is docs/sync.md's outbox plus ``dismissed_at``, ``acked_at`` and ``replaces_id``; it is
the only precious table together with ``local_user`` and ``app_meta``. Everything else is a
disposable cache that a re-snapshot rebuilds. Times are stored as fixed-width UTC text
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` so that text order is time order.

The search index ``customer_fts`` (FTS5, external content, one token per CJK character) and
its triggers are created by the migrations, not by these models.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, CheckConstraint, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from agentdesk.store.search import HIT_COLUMNS
from agentdesk.store.tables import CACHE_TABLES

__all__ = [
    "CACHE_TABLES",
    "AppMeta",
    "Base",
    "Campaign",
    "ClaimActive",
    "Contact",
    "Customer",
    "CustomerUsage",
    "Holding",
    "LocalUser",
    "MarketingOrder",
    "Offer",
    "Outbox",
    "Redirect",
    "RuleSetRow",
    "SyncState",
    "TargetMember",
]

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the local cache."""

    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


def _digit_index(name: str, first: str) -> Index:
    """``first`` (the searched column), then the hit's columns (``search.HIT_COLUMNS``): as
    migration 0004 builds it."""
    return Index(name, first, *(c for c in HIT_COLUMNS if c != first))


class Customer(Base):
    """A customer of the user's scope: search columns, list columns and the wire row."""

    __tablename__ = "customer"
    __table_args__ = (
        # The digit indexes carry the columns of a search hit: a phone or ID-number search
        # reads its rows from a few index pages, never the table (agentdesk.store.search,
        # migration 0004).
        _digit_index("ix_customer_msisdn", "msisdn"),
        _digit_index("ix_customer_id_number", "id_number"),
        _digit_index("ix_customer_id_rev", "id_rev"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), unique=True)
    msisdn: Mapped[str] = mapped_column(String(20))  # ix_customer_msisdn above
    id_number: Mapped[str] = mapped_column(String(32))  # ix_customer_id_number above
    id_rev: Mapped[str] = mapped_column(String(32))  # reversed, for suffix search (index above)
    name: Mapped[str] = mapped_column(String(100))
    name_chars: Mapped[str] = mapped_column(Text, default="")  # "张 三 丰" (FTS column)
    name_pinyin: Mapped[str] = mapped_column(Text, default="")  # "zhangsanfeng sanfeng feng zsf"
    name_head: Mapped[str] = mapped_column(Text, default="", server_default="")  # "张 张三 张三丰"
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    segment_id: Mapped[str] = mapped_column(String(4), default="")
    account_manager_id: Mapped[str | None] = mapped_column(String(64), index=True)
    value_class: Mapped[str] = mapped_column(String(16), default="")
    vip_level: Mapped[str] = mapped_column(String(16), default="")
    value_tier: Mapped[int] = mapped_column(Integer, default=3)
    arpu_3m: Mapped[float] = mapped_column(default=0.0)
    churn_risk: Mapped[float] = mapped_column(default=0.0)
    churn_level: Mapped[str] = mapped_column(String(8), default="low")
    number_status: Mapped[str] = mapped_column(String(24), default="")
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[str] = mapped_column(String(27), default="")


class Holding(Base):
    """客户拥有信息: a product the customer holds."""

    __tablename__ = "holding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holding_id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)


class CustomerUsage(Base):
    """A customer's usage months (wire entity ``usage_months``, id = the customer id): ``row`` is
    ``{"customer_id", "months": [month rows, oldest first]}`` (migration 0005)."""

    __tablename__ = "customer_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), unique=True)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)


class Campaign(Base):
    """营销方案."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)


class Offer(Base):
    """An offer of a campaign with its scripts."""

    __tablename__ = "offer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(32), unique=True)
    campaign_id: Mapped[str] = mapped_column(String(32), index=True)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)


class TargetMember(Base):
    """目标客户名单 entry; wire id ``campaign_id:customer_id``."""

    __tablename__ = "target_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[str] = mapped_column(String(70), unique=True)
    campaign_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    in_control_group: Mapped[bool] = mapped_column(default=False)
    wave: Mapped[int] = mapped_column(Integer, default=1)
    assigned_channel: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(default=0.0)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_target_member_campaign_score", "campaign_id", "score"),)


class MarketingOrder(Base):
    """营销单 in flight."""

    __tablename__ = "marketing_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    campaign_id: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)


class Contact(Base):
    """Every channel's contacts: pulled ledger rows (``server``) and this device's (``local``)."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(36), unique=True)
    customer_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[str] = mapped_column(String(64), default="")
    campaign_id: Mapped[str | None] = mapped_column(String(32), index=True)
    started_at: Mapped[str] = mapped_column(String(27), index=True)
    result_code: Mapped[str] = mapped_column(String(40))
    is_marketing: Mapped[bool] = mapped_column(default=False)
    reached: Mapped[bool] = mapped_column(default=False)
    origin: Mapped[str] = mapped_column(String(8), default="server")
    row: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    server_seq: Mapped[int | None] = mapped_column(Integer)
    row_seq: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_contact_customer_started", "customer_id", "started_at"),
        CheckConstraint("origin IN ('local','server')", name="origin"),
    )


class ClaimActive(Base):
    """A claim (lease) someone holds on a customer, as last pulled."""

    __tablename__ = "claim_active"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), unique=True)
    claim_id: Mapped[str] = mapped_column(String(36))
    holder_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    fence: Mapped[int] = mapped_column(Integer)
    lease_until: Mapped[str] = mapped_column(String(27))
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)


class RuleSetRow(Base):
    """A pulled contact-policy rule set (``row`` = the parsed rules dict)."""

    __tablename__ = "rule_set"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(Integer, default=0)


class Redirect(Base):
    """A merged-away customer id pointing at the kept one."""

    __tablename__ = "redirect"

    old_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    new_id: Mapped[str] = mapped_column(String(32))
    row_seq: Mapped[int] = mapped_column(Integer, default=0)


class Outbox(Base):
    """The transactional outbox (docs/sync.md): nothing leaves it until the server acked it."""

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7
    client_seq: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload_schema: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    payload_hash: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[str | None] = mapped_column(String(36))
    fence: Mapped[int | None] = mapped_column(Integer)
    created_at_local: Mapped[str] = mapped_column(String(27))
    created_mono_ns: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[str | None] = mapped_column(String(27))
    last_error: Mapped[str | None] = mapped_column(Text)
    server_seq: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dismissed_at: Mapped[str | None] = mapped_column(String(27))
    acked_at: Mapped[str | None] = mapped_column(String(27))
    replaces_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (
        CheckConstraint(
            "state IN ('pending','inflight','acked','conflict','rejected')", name="state"
        ),
        Index("ix_outbox_state_seq", "state", "client_seq"),
    )


class SyncState(Base):
    """Where the pull stands, per stream (v1: one stream ``all``)."""

    __tablename__ = "sync_state"

    stream: Mapped[str] = mapped_column(String(32), primary_key=True)
    epoch: Mapped[str] = mapped_column(String(64), default="")
    cursor: Mapped[str] = mapped_column(Text, default="")  # opaque server token
    snapshot_seq: Mapped[int | None] = mapped_column(Integer)
    snapshot_page_key: Mapped[str | None] = mapped_column(Text)
    checksum: Mapped[str | None] = mapped_column(Text)
    up_to_date: Mapped[bool] = mapped_column(default=False)
    max_seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[str] = mapped_column(String(27), default="")


class LocalUser(Base):
    """A user who logged in on this machine before; enables offline re-login."""

    __tablename__ = "local_user"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    channels: Mapped[dict[str, Any]]  # {"items": [...]}
    regions: Mapped[dict[str, Any]]  # {"items": [...]}
    password_verifier: Mapped[str] = mapped_column(Text)  # argon2id hash
    last_login_at: Mapped[str] = mapped_column(String(27))


class AppMeta(Base):
    """Key/value facts: ``device_id``, ``client_seq`` counter, schema notes."""

    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
