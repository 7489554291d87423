"""A customer's usage months in one row: ``customer_usage`` replaces ``usage_month``.

The service now sends all of a customer's months as one ``usage_months`` change (id = the
customer id, row ``{"customer_id", "months": [...]}``, oldest month first). Months were more
than half of a first sync's changes (about 1.08 M of 1.96 M for a 100 k-customer scope), each
its own change to build, decode and insert; now a customer's months cost one (docs/sync.md, "A
customer's months in one change").

The upgrade folds each customer's stored month rows, as stored, into one row (oldest month
first), keeps the largest ``row_seq`` and drops ``usage_month``. A snapshot interrupted in bulk
mode saved the DDL of the indexes it dropped (``app_meta`` key ``bulk_ddl``): the entries of
``usage_month`` go, since the table does. It is one transaction, so a failure leaves the file
as it was and no backup is taken (:data:`NEEDS_BACKUP`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NEEDS_BACKUP = False
"""One transaction that fails as a whole: :func:`agentdesk.store.migrate.upgrade` takes no
backup (a copy of a 1 M-customer cache is about 11 GB)."""

# SQLite 3.40 has no ORDER BY inside an aggregate; group_concat joins the rows of an ordered
# subquery in that order (tests/unit/store/test_migrate.py checks it).
FOLD = """
INSERT INTO customer_usage (customer_id, row, row_seq)
SELECT customer_id,
       '{"customer_id":' || json_quote(customer_id) || ',"months":[' || group_concat(row, ',')
       || ']}',
       max(row_seq)
FROM (SELECT customer_id, row, row_seq FROM usage_month ORDER BY customer_id, month)
GROUP BY customer_id
ORDER BY customer_id
"""


def upgrade() -> None:
    """Create ``customer_usage``, fold ``usage_month`` into it, drop ``usage_month``."""
    op.create_table(
        "customer_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("row_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_usage")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_customer_usage_customer_id")),
    )
    op.execute(FOLD)
    op.drop_table("usage_month")
    bind = op.get_bind()
    saved = bind.execute(sa.text("SELECT value FROM app_meta WHERE key = 'bulk_ddl'")).scalar()
    if saved:
        kept = [entry for entry in json.loads(saved) if " usage_month " not in f" {entry[2]} "]
        bind.execute(
            sa.text("UPDATE app_meta SET value = :value WHERE key = 'bulk_ddl'"),
            {"value": json.dumps(kept, ensure_ascii=False)},
        )


def downgrade() -> None:
    """Downgrade is not supported for the local cache (restore the backup instead)."""
    raise NotImplementedError
