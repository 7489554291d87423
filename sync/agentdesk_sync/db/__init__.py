"""The central store: schema, engine factories and Alembic migrations."""

from agentdesk_sync.db import models

__all__ = ["models"]
