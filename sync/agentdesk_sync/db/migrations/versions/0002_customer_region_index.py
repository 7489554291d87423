"""Customer index on (region_code, customer_id) instead of region_code alone.

A region scope's snapshot page looks for the next customers after the cursor in id order. With
``region_code`` alone SQLite read every remaining customer of the scope (row and all) and sorted
them, once per page; this index answers the page's ids from the index alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_region_customer", ["region_code", "customer_id"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_customer_region_code"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_region_code"), ["region_code"], unique=False)
        batch_op.drop_index("ix_customer_region_customer")
