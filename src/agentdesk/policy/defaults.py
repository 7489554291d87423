"""Find and load the packaged default rule set (``resources/policy/default_rules.toml``)."""

from __future__ import annotations

from pathlib import Path

from agentdesk.paths import resource_path
from agentdesk.policy.rules import RuleSet, load_rules

__all__ = ["default_rules", "default_rules_path"]


def default_rules_path() -> Path:
    """The path of the default rule file (installed wheel or source tree)."""
    return resource_path("policy", "default_rules.toml")


def default_rules() -> RuleSet:
    """The default contact policy of docs/contact-policy.md (≤ 2 per 7 days, 24 h gap, …)."""
    return load_rules(default_rules_path().read_text(encoding="utf-8"))
