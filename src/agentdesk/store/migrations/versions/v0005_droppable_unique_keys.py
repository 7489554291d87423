"""The wire-id keys of the big cache tables become named unique indexes (droppable).

``customer``, ``holding``, ``usage_month``, ``target_member``, ``marketing_order`` and
``contact`` had their wire id as an inline ``UNIQUE`` constraint: an automatic index SQLite
cannot drop, maintained row by row (random contact ids touch its leaves all over) by every
insert of a first sync. As ``uq_<table>_<column>`` unique indexes, the snapshot's bulk mode
(``agentdesk.store.bulk``) drops them when it starts on an empty table and builds each once,
sorted, at the end (docs/sync.md, "Unique keys built once").

SQLite cannot drop a table constraint, so each table is rebuilt: renamed aside, created again
without the constraint, its rows copied (same ``id``s, so the customer name index, whose rowids
are customer ids, stays valid), the old one dropped, then its indexes and triggers created
again with the unique index. A fresh cache goes through the same steps on empty tables, so both
end with the same schema. Rows are copied: the upgrade takes a backup first.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import re

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KEYS = {
    "customer": "customer_id",
    "holding": "holding_id",
    "usage_month": "usage_id",
    "target_member": "target_id",
    "marketing_order": "order_id",
    "contact": "contact_id",
}
"""Each table whose inline unique constraint becomes the index ``uq_<table>_<column>``."""


def upgrade() -> None:
    """Rebuild each table of :data:`KEYS` without its inline constraint, with the index."""
    conn = op.get_bind()
    for table, column in KEYS.items():
        ddl = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar_one()
        constraint = rf",\s*CONSTRAINT uq_{table}_{column} UNIQUE \({column}\)"
        new_ddl, found = re.subn(constraint, "", ddl)
        if found != 1:
            raise RuntimeError(f"{table}: unexpected schema {ddl!r}")
        others = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
            "AND type IN ('index', 'trigger') ORDER BY type, name",
            (table,),
        ).all()
        op.execute(f"ALTER TABLE {table} RENAME TO _old_{table}")
        op.execute(new_ddl)
        op.execute(f"INSERT INTO {table} SELECT * FROM _old_{table}")
        op.execute(f"DROP TABLE _old_{table}")  # its indexes and triggers go with it
        for (sql,) in others:
            op.execute(sql)
        op.execute(f"CREATE UNIQUE INDEX uq_{table}_{column} ON {table} ({column})")


def downgrade() -> None:
    """Downgrade is not supported for the local cache (restore the backup instead)."""
    raise NotImplementedError
