"""PostgreSQL stores the customer row as ``json`` (the text as written) instead of ``jsonb``.

Nothing queries into the customer row on the server: the service reads it whole (as text for
pulls and claims, as a document elsewhere) and filters on the table's own columns. ``jsonb``
parsed every ~2 KB row into its binary form on write and printed it back to text on every read;
for a big customer import that parsing was most of PostgreSQL's work (docs/operations.md).
``json`` only checks the syntax and keeps the text. SQLite is unchanged (JSON is text there).

The change rewrites the ``customer`` table once (about a minute per million customers).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_context().dialect.name == "postgresql":
        op.execute('ALTER TABLE customer ALTER COLUMN "row" TYPE json USING "row"::json')


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_context().dialect.name == "postgresql":
        op.execute('ALTER TABLE customer ALTER COLUMN "row" TYPE jsonb USING "row"::jsonb')
