"""Name search v2: a ``name_head`` column ("starts with" as one token), prefix index of 2 only.

Recreates the FTS5 table and its triggers and fills ``name_head`` from ``name_chars`` in SQL
(leading runs of up to 8 characters), then rebuilds the index from the customer rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLS = "name_chars, name_pinyin, name_head"
_NEW = "new.name_chars, new.name_pinyin, new.name_head"
_OLD = "old.name_chars, old.name_pinyin, old.name_head"
FTS_DDL = (
    f"CREATE VIRTUAL TABLE customer_fts USING fts5({_COLS}, "
    "content='customer', content_rowid='id', tokenize='unicode61', prefix='2')",
    "CREATE TRIGGER customer_fts_ai AFTER INSERT ON customer BEGIN "
    f"INSERT INTO customer_fts(rowid, {_COLS}) VALUES (new.id, {_NEW}); END",
    "CREATE TRIGGER customer_fts_ad AFTER DELETE ON customer BEGIN "
    f"INSERT INTO customer_fts(customer_fts, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD}); "
    "END",
    f"CREATE TRIGGER customer_fts_au AFTER UPDATE OF {_COLS} ON customer BEGIN "
    f"INSERT INTO customer_fts(customer_fts, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD}); "
    f"INSERT INTO customer_fts(rowid, {_COLS}) VALUES (new.id, {_NEW}); END",
)


def _head_sql() -> str:
    """SQL building ``name_head`` from the space-separated ``name_chars``."""
    joined = "replace(name_chars, ' ', '')"
    runs = [f"substr({joined}, 1, {n})" for n in range(1, 9)]
    parts = [runs[0]] + [
        f"CASE WHEN length({joined}) >= {n} THEN ' ' || {runs[n - 1]} ELSE '' END"
        for n in range(2, 9)
    ]
    return " || ".join(parts)


def upgrade() -> None:
    """Add the column, recreate the FTS table and triggers, fill and rebuild."""
    for trigger in ("customer_fts_ai", "customer_fts_ad", "customer_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS customer_fts")
    op.add_column("customer", sa.Column("name_head", sa.Text(), nullable=False, server_default=""))
    op.execute(f"UPDATE customer SET name_head = {_head_sql()} WHERE name_chars != ''")
    for ddl in FTS_DDL:
        op.execute(ddl)
    op.execute("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')")


def downgrade() -> None:
    """Downgrade is not supported for the local cache (restore the backup instead)."""
    raise NotImplementedError
