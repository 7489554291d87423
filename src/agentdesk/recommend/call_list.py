"""Outbound call-list selection score (seed 004 数据优选规则)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentdesk.domain import Contact, CustomerAttributes

__all__ = ["call_list_score"]


def call_list_score(
    customer: CustomerAttributes, history: Sequence[Contact], now: datetime
) -> float:
    """Score of a customer for an outbound call list (stub)."""
    del customer, history, now
    return 0.0
