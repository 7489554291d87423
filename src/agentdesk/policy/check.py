"""Push-time check: which rules a contact that already happened broke."""

from __future__ import annotations

from collections.abc import Sequence

from agentdesk.domain import Claim, Contact, CustomerAttributes
from agentdesk.policy.decision import Violation
from agentdesk.policy.rules import RuleSet

__all__ = ["check_contact"]


def check_contact(
    contact: Contact,
    customer: CustomerAttributes,
    history: Sequence[Contact],
    claims: Sequence[Claim],
    rules: RuleSet,
    *,
    fence: int | None = None,
    current_fence: int | None = None,
) -> list[Violation]:
    """The violations of ``contact`` against ``history`` and ``claims`` (stub)."""
    del contact, customer, history, claims, rules, fence, current_fence
    return []
