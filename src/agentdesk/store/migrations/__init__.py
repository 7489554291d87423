"""Alembic migrations of the local cache (run at start-up by :mod:`agentdesk.store.migrate`)."""
