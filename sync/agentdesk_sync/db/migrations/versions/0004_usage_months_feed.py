"""Desktops still behind a per-month ``usage`` change start over.

A customer's usage months now travel as one ``usage_months`` change (id = the customer id, the
whole set of months). The change log may still hold per-month ``usage`` changes that merges wrote
before (id ``customer_id:month``): a desktop of this version skips that entity, so a desktop
whose cursor is behind one of them would miss the months a merge moved. The retention floor is
raised to the last such change: those desktops get ``reset_required`` and take a new snapshot
(their outbox is pushed first and never dropped); every other cursor is untouched. A store
without such changes (every store that never merged) is not changed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Raise ``retention_floor`` to the last per-month ``usage`` change, if any."""
    bind = op.get_bind()
    last = bind.execute(
        sa.text("SELECT max(server_seq) FROM change_log WHERE entity = 'usage'")
    ).scalar()
    floor = bind.execute(sa.text("SELECT value FROM meta WHERE key = 'retention_floor'")).scalar()
    if last is not None and int(last) > int(floor or 0):
        bind.execute(
            sa.text("UPDATE meta SET value = :v WHERE key = 'retention_floor'"), {"v": str(last)}
        )


def downgrade() -> None:
    """Nothing to undo: a lower floor would not bring the skipped changes back."""
