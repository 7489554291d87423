"""The central store: SQLAlchemy 2 models, identical on PostgreSQL and the embedded SQLite.

Layout (docs/sync.md):

* shared data: ``customer``, ``holding``, ``usage_month``, ``campaign``, ``offer``,
  ``target_member``, ``marketing_order`` — each row keeps its full wire form in ``row`` (JSON)
  plus the few columns we filter or join on, and ``row_seq`` (server_seq of its last change);
* the ledger: ``contact`` (primary key = client UUID, permanent dedupe for facts) and
  ``mutation_receipt`` for intents;
* ``claim`` (one row per customer, ``fence`` only ever grows), ``change_log`` + ``sequencer``
  (commit-ordered cursor), ``meta`` (epoch, retention floor), ``rule_set`` (versioned policy);
* ``app_user``, ``auth_token`` (hashed), ``portfolio`` (field users' customers),
  ``intent`` (call-backs, visit plans, feedback), ``customer_redirect`` (merges).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AppUser",
    "AuthToken",
    "Base",
    "Campaign",
    "ChangeLog",
    "Claim",
    "Contact",
    "Customer",
    "CustomerRedirect",
    "Holding",
    "Intent",
    "MarketingOrder",
    "Meta",
    "MutationReceipt",
    "Offer",
    "Portfolio",
    "RuleSet",
    "Sequencer",
    "TargetMember",
    "UsageMonth",
]

JsonType = JSON().with_variant(JSONB(), "postgresql")
UtcDateTime = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of the central schema."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JsonType,
        datetime: UtcDateTime,
    }


class Customer(Base):
    """One customer: search columns plus the full view (attributes, value, churn) in ``row``."""

    __tablename__ = "customer"

    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(16))
    id_number: Mapped[str] = mapped_column(String(32), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    segment_id: Mapped[str] = mapped_column(String(4))
    account_manager_id: Mapped[str | None] = mapped_column(String(64), index=True)
    contact_address: Mapped[str] = mapped_column(String(200), default="")
    # json, not jsonb, on PostgreSQL: nothing queries into it, and a big import then no longer
    # spends most of the server's time parsing rows into jsonb (migration 0003)
    row: Mapped[dict[str, Any]] = mapped_column(JSON())
    row_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]

    # A region's customers in id order: the snapshot pages of a region scope find their next
    # customers in this index alone (docs/sync.md).
    __table_args__ = (Index("ix_customer_region_customer", "region_code", "customer_id"),)


class CustomerRedirect(Base):
    """A merged-away customer id pointing at the kept one (seed 002)."""

    __tablename__ = "customer_redirect"

    old_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    new_id: Mapped[str] = mapped_column(String(32), index=True)
    merged_at: Mapped[datetime]


class Holding(Base):
    """客户拥有信息: a product the customer holds."""

    __tablename__ = "holding"

    holding_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageMonth(Base):
    """One month of a customer's usage."""

    __tablename__ = "usage_month"

    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    row: Mapped[dict[str, Any]]


class Campaign(Base):
    """营销方案."""

    __tablename__ = "campaign"

    campaign_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Offer(Base):
    """An offer of a campaign with its scripts."""

    __tablename__ = "offer"

    offer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(32), index=True)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class TargetMember(Base):
    """目标客户名单 entry."""

    __tablename__ = "target_member"

    campaign_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    in_control_group: Mapped[bool] = mapped_column(Boolean, default=False)
    wave: Mapped[int] = mapped_column(Integer, default=1)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (Index("ix_target_member_customer", "customer_id"),)


class MarketingOrder(Base):
    """营销单 in flight."""

    __tablename__ = "marketing_order"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    row: Mapped[dict[str, Any]]
    row_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Contact(Base):
    """The ledger of every contact from every channel. PK = client UUID: dedupe is permanent."""

    __tablename__ = "contact"

    contact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    result_code: Mapped[str] = mapped_column(String(40))
    is_marketing: Mapped[bool] = mapped_column(Boolean)
    reached: Mapped[bool] = mapped_column(Boolean)
    row: Mapped[dict[str, Any]]
    device_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    server_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    received_at: Mapped[datetime]

    __table_args__ = (Index("ix_contact_customer_started", "customer_id", "started_at"),)


class MutationReceipt(Base):
    """Dedupe record of a non-ledger mutation (kept ≥ 90 days)."""

    __tablename__ = "mutation_receipt"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    payload_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    response: Mapped[dict[str, Any]]
    server_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]


class Intent(Base):
    """An applied intent: call-back, visit plan or frontline feedback."""

    __tablename__ = "intent"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    row: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Claim(Base):
    """One row per customer ever claimed; ``fence`` only ever grows (docs/sync.md)."""

    __tablename__ = "claim"

    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(36), unique=True)
    holder_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    fence: Mapped[int] = mapped_column(BigInteger)
    lease_until: Mapped[datetime]
    acquired_at: Mapped[datetime]


class ChangeLog(Base):
    """The change feed; ``server_seq`` equals commit order (taken last, under a row lock)."""

    __tablename__ = "change_log"

    server_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8))
    region_code: Mapped[str | None] = mapped_column(String(6))  # NULL: every scope
    customer_id: Mapped[str | None] = mapped_column(String(32))
    row: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    created_at: Mapped[datetime]


class Sequencer(Base):
    """Counters; ``UPDATE … SET value = value + n RETURNING value`` serialises commits."""

    __tablename__ = "sequencer"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Meta(Base):
    """Key/value facts about the store: ``epoch``, ``retention_floor``, ``schema``."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RuleSet(Base):
    """A versioned contact-policy rule set (TOML source and parsed JSON)."""

    __tablename__ = "rule_set"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    rules: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class AppUser(Base):
    """A user of the service."""

    __tablename__ = "app_user"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    channels: Mapped[dict[str, Any]] = mapped_column(JsonType)  # {"items": [...]}
    regions: Mapped[dict[str, Any]] = mapped_column(JsonType)  # {"items": [...]}
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuthToken(Base):
    """A bearer token, stored as its SHA-256."""

    __tablename__ = "auth_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.user_id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class Portfolio(Base):
    """A field account manager's customers."""

    __tablename__ = "portfolio"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_portfolio_customer", "customer_id"),)
