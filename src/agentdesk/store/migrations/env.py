"""Alembic environment: runs on the connection :mod:`agentdesk.store.migrate` passes in.

The caller owns the transaction (one transaction for the whole upgrade), so this file never
commits; SQLite batch mode is on for ALTERs.
"""

from __future__ import annotations

from alembic import context

from agentdesk.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
