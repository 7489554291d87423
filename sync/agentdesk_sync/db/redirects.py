"""Following ``customer_redirect`` chains (``agentdesk-sync merge``): the one walker the
importers, the merge and the scope check share.

A merge flattens the chains it touches (every redirect into the merged-away id is re-pointed to
the kept one), so a chain is normally one hop; :data:`MAX_REDIRECTS` bounds a walk should a
chain ever be longer, or loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentdesk_sync.db.models import CustomerRedirect

__all__ = ["MAX_REDIRECTS", "follow_redirects", "kept_ids"]

MAX_REDIRECTS = 8
"""The most redirect hops followed from one id."""


def follow_redirects(
    fetch: Callable[[list[str]], dict[str, str]], ids: Iterable[str]
) -> dict[str, str]:
    """The kept id of every merged-away id among ``ids``, redirect chains followed.

    Args:
        fetch: Given merged-away candidates (sorted), their redirects (old id -> new id) as
            stored; one call per hop.
        ids: The ids asked about (empty ones are ignored).

    Returns:
        Old id -> the end of its chain (at most :data:`MAX_REDIRECTS` hops), for the ids of
        ``ids`` that redirect.
    """
    wanted = set(ids) - {""}
    step: dict[str, str] = {}
    pending = sorted(wanted)
    asked = set(pending)
    for _ in range(MAX_REDIRECTS):
        if not pending:
            break
        found = fetch(pending)
        step.update(found)
        pending = sorted(set(found.values()) - asked)  # normally none: a merge flattens chains
        asked.update(pending)
    kept: dict[str, str] = {}
    for old in sorted(wanted & step.keys()):
        new, hops = step[old], 1
        while new in step and hops < MAX_REDIRECTS:
            new, hops = step[new], hops + 1
        kept[old] = new
    return kept


def kept_ids(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """:func:`follow_redirects` in ``session``: the kept customer id of every merged-away id
    among ``ids``."""

    def fetch(pending: list[str]) -> dict[str, str]:
        stmt = select(CustomerRedirect.old_id, CustomerRedirect.new_id).where(
            CustomerRedirect.old_id.in_(pending)
        )
        return dict(session.execute(stmt).all())

    return follow_redirects(fetch, ids)
