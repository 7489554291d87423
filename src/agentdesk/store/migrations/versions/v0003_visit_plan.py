"""Visit plan: the field user's own plan for a day, in order, with what pre-claiming answered.

Local to this device (never synced as a table: the plan itself also goes out as the outbox
intent ``visit_plan``). One row per planned customer; ``position`` orders the day.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``visit_plan_item``."""
    op.create_table(
        "visit_plan_item",
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Text(), nullable=True),
        sa.Column("fence", sa.Integer(), nullable=True),
        sa.Column("claim_until", sa.Text(), nullable=True),
        sa.Column("refused_code", sa.Text(), nullable=True),
        sa.Column("refused_detail", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("day", "customer_id"),
    )


def downgrade() -> None:
    """Downgrade is not supported for the local cache (restore the backup instead)."""
    raise NotImplementedError
