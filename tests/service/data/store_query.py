"""Reading a central store straight with SQL, for tests that check what an import or merge wrote."""

from __future__ import annotations

from sqlalchemy import text

from agentdesk_sync.db.engine import make_engine


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    """The rows of ``sql`` on the store at ``url`` (a connection of its own, closed after)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows
