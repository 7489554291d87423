"""Initial schema of the local cache, with the per-character FTS5 name index.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

FTS_DDL = (
    "CREATE VIRTUAL TABLE customer_fts USING fts5(name_chars, name_pinyin, "
    "content='customer', content_rowid='id', tokenize='unicode61', prefix='2 3')",
    "CREATE TRIGGER customer_fts_ai AFTER INSERT ON customer BEGIN "
    "INSERT INTO customer_fts(rowid, name_chars, name_pinyin) "
    "VALUES (new.id, new.name_chars, new.name_pinyin); END",
    "CREATE TRIGGER customer_fts_ad AFTER DELETE ON customer BEGIN "
    "INSERT INTO customer_fts(customer_fts, rowid, name_chars, name_pinyin) "
    "VALUES ('delete', old.id, old.name_chars, old.name_pinyin); END",
    "CREATE TRIGGER customer_fts_au AFTER UPDATE OF name_chars, name_pinyin ON customer BEGIN "
    "INSERT INTO customer_fts(customer_fts, rowid, name_chars, name_pinyin) "
    "VALUES ('delete', old.id, old.name_chars, old.name_pinyin); "
    "INSERT INTO customer_fts(rowid, name_chars, name_pinyin) "
    "VALUES (new.id, new.name_chars, new.name_pinyin); END",
)


def upgrade() -> None:
    """Create every table, the FTS index and its triggers."""
    op.create_table(
        "app_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_meta")),
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_campaign_id")),
    )
    op.create_table(
        "claim_active",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("claim_id", sa.String(length=36), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("fence", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.String(length=27), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_active")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_claim_active_customer_id")),
    )
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.String(length=27), nullable=False),
        sa.Column("result_code", sa.String(length=40), nullable=False),
        sa.Column("is_marketing", sa.Boolean(), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("server_seq", sa.Integer(), nullable=True),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint("origin IN ('local','server')", name=op.f("ck_contact_origin")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_contact_contact_id")),
    )
    op.create_index(op.f("ix_contact_campaign_id"), "contact", ["campaign_id"], unique=False)
    op.create_index(
        "ix_contact_customer_started", "contact", ["customer_id", "started_at"], unique=False
    )
    op.create_index(op.f("ix_contact_started_at"), "contact", ["started_at"], unique=False)
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("msisdn", sa.String(length=20), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("id_rev", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_chars", sa.Text(), nullable=False),
        sa.Column("name_pinyin", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("segment_id", sa.String(length=4), nullable=False),
        sa.Column("account_manager_id", sa.String(length=64), nullable=True),
        sa.Column("value_class", sa.String(length=16), nullable=False),
        sa.Column("vip_level", sa.String(length=16), nullable=False),
        sa.Column("value_tier", sa.Integer(), nullable=False),
        sa.Column("arpu_3m", sa.Double(), nullable=False),
        sa.Column("churn_risk", sa.Double(), nullable=False),
        sa.Column("churn_level", sa.String(length=8), nullable=False),
        sa.Column("number_status", sa.String(length=24), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_customer_customer_id")),
    )
    op.create_index(
        op.f("ix_customer_account_manager_id"), "customer", ["account_manager_id"], unique=False
    )
    op.create_index(op.f("ix_customer_id_number"), "customer", ["id_number"], unique=False)
    op.create_index(op.f("ix_customer_id_rev"), "customer", ["id_rev"], unique=False)
    op.create_index(op.f("ix_customer_msisdn"), "customer", ["msisdn"], unique=False)
    op.create_index(op.f("ix_customer_region_code"), "customer", ["region_code"], unique=False)
    op.create_table(
        "holding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holding_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holding")),
        sa.UniqueConstraint("holding_id", name=op.f("uq_holding_holding_id")),
    )
    op.create_index(op.f("ix_holding_customer_id"), "holding", ["customer_id"], unique=False)
    op.create_table(
        "local_user",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("password_verifier", sa.Text(), nullable=False),
        sa.Column("last_login_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_local_user")),
    )
    op.create_table(
        "marketing_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_order")),
        sa.UniqueConstraint("order_id", name=op.f("uq_marketing_order_order_id")),
    )
    op.create_index(
        op.f("ix_marketing_order_customer_id"), "marketing_order", ["customer_id"], unique=False
    )
    op.create_table(
        "offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_offer_offer_id")),
    )
    op.create_index(op.f("ix_offer_campaign_id"), "offer", ["campaign_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload_schema", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.String(length=36), nullable=True),
        sa.Column("fence", sa.Integer(), nullable=True),
        sa.Column("created_at_local", sa.String(length=27), nullable=False),
        sa.Column("created_mono_ns", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.String(length=27), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("server_seq", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("dismissed_at", sa.String(length=27), nullable=True),
        sa.Column("acked_at", sa.String(length=27), nullable=True),
        sa.Column("replaces_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending','inflight','acked','conflict','rejected')",
            name=op.f("ck_outbox_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("client_seq", name=op.f("uq_outbox_client_seq")),
    )
    op.create_index("ix_outbox_state_seq", "outbox", ["state", "client_seq"], unique=False)
    op.create_table(
        "redirect",
        sa.Column("old_id", sa.String(length=32), nullable=False),
        sa.Column("new_id", sa.String(length=32), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("old_id", name=op.f("pk_redirect")),
    )
    op.create_table(
        "rule_set",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_rule_set")),
    )
    op.create_table(
        "sync_state",
        sa.Column("stream", sa.String(length=32), nullable=False),
        sa.Column("epoch", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("snapshot_seq", sa.Integer(), nullable=True),
        sa.Column("snapshot_page_key", sa.Text(), nullable=True),
        sa.Column("checksum", sa.Text(), nullable=True),
        sa.Column("up_to_date", sa.Boolean(), nullable=False),
        sa.Column("max_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "target_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.String(length=70), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("in_control_group", sa.Boolean(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("assigned_channel", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_member")),
        sa.UniqueConstraint("target_id", name=op.f("uq_target_member_target_id")),
    )
    op.create_index(
        "ix_target_member_campaign_score", "target_member", ["campaign_id", "score"], unique=False
    )
    op.create_index(
        op.f("ix_target_member_customer_id"), "target_member", ["customer_id"], unique=False
    )
    op.create_table(
        "usage_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("usage_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_month")),
        sa.UniqueConstraint("usage_id", name=op.f("uq_usage_month_usage_id")),
    )
    op.create_index(
        "ix_usage_month_customer_month", "usage_month", ["customer_id", "month"], unique=False
    )
    for ddl in FTS_DDL:
        op.execute(ddl)


def downgrade() -> None:
    """Downgrade is not supported for the local cache (restore the backup instead)."""
    raise NotImplementedError
