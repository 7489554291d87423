"""Names of cache tables that code needs without loading the SQLAlchemy schema (start-up cost)."""

from __future__ import annotations

__all__ = ["CACHE_TABLES"]

CACHE_TABLES = (
    "customer",
    "holding",
    "customer_usage",
    "campaign",
    "offer",
    "target_member",
    "marketing_order",
    "claim_active",
    "rule_set",
    "redirect",
)
"""Disposable tables that a reset clears (``contact`` keeps its ``local`` rows)."""
