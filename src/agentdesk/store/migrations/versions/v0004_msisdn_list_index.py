"""Phone search reads the index only: ``ix_customer_msisdn`` carries the columns of a hit.

A phone prefix search returns up to 50 customers in phone order. With an index on ``msisdn``
alone every hit was a read of its customer row, and a cached customer (with its JSON row)
fills a page of its own: 50 pages scattered over the file, read from disk when they are not in
memory. With the hit's columns in the index the same 50 hits lie on one to three neighbouring
index pages (about 80 bytes an entry: some 80 MB of index at a million customers, against
20 MB before).

The index keeps its name, so the snapshot's bulk mode (``agentdesk.store.bulk``) drops and
rebuilds it as before. The upgrade reads the customer table once to build it; it changes no
data, so it needs no backup (:data:`NEEDS_BACKUP`): a failure rolls the transaction back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEEDS_BACKUP = False
"""Only an index is rebuilt: :func:`agentdesk.store.migrate.upgrade` takes no backup for it."""

COLUMNS = (
    "msisdn", "customer_id", "name", "id_number", "region_code", "segment_id", "value_tier",
    "vip_level", "churn_level",
)  # fmt: skip


def upgrade() -> None:
    """Replace ``ix_customer_msisdn (msisdn)`` by the covering index of the same name."""
    op.execute("DROP INDEX IF EXISTS ix_customer_msisdn")
    op.execute(f"CREATE INDEX ix_customer_msisdn ON customer ({', '.join(COLUMNS)})")


def downgrade() -> None:
    """Downgrade is not supported for the local cache (restore the backup instead)."""
    raise NotImplementedError
