"""Digit searches read indexes only: the phone and ID-number indexes carry a hit's columns.

A phone prefix search returns up to 50 customers in phone order. With an index on ``msisdn``
alone every hit was a read of its customer row, and a cached customer (with its JSON row)
fills a page of its own: 50 pages scattered over the file, read from disk when they are not in
memory. With the hit's columns in the index the same 50 hits lie on one to three neighbouring
index pages (about 80 bytes an entry: some 80 MB of index at a million customers, against
20 MB before). Digits that match few phone numbers (6 or 7 of them) go on to the ID-number
prefix and suffix indexes, whose rows were read from the table too (also to leave out the
phone matches): those two indexes carry the same columns.

The indexes keep their names, so the snapshot's bulk mode (``agentdesk.store.bulk``) drops and
rebuilds them as before. The upgrade reads the customer table once per index; it changes no
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
"""Only indexes are rebuilt: :func:`agentdesk.store.migrate.upgrade` takes no backup for them."""

HIT = (
    "customer_id", "name", "msisdn", "id_number", "region_code", "segment_id", "value_tier",
    "vip_level", "churn_level",
)  # fmt: skip
"""The columns of a search hit (``agentdesk.store.search``)."""
INDEXES = {
    "ix_customer_msisdn": "msisdn",
    "ix_customer_id_number": "id_number",
    "ix_customer_id_rev": "id_rev",
}
"""Each digit index: its search column first, then :data:`HIT` (without that column again)."""


def columns(first: str) -> tuple[str, ...]:
    """The columns of the index whose search column is ``first``."""
    return (first, *(c for c in HIT if c != first))


def upgrade() -> None:
    """Replace the one-column digit indexes by covering indexes of the same names."""
    for name, first in INDEXES.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON customer ({', '.join(columns(first))})")


def downgrade() -> None:
    """Downgrade is not supported for the local cache (restore the backup instead)."""
    raise NotImplementedError
