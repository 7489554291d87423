"""Find and load the packaged default rule set (``resources/policy/default_rules.toml``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from agentdesk.policy.rules import RuleSet, load_rules

__all__ = ["default_rules", "default_rules_path"]

_RELATIVE = Path("policy") / "default_rules.toml"


def _candidates() -> list[Path]:
    """Installed wheel (``agentdesk/resources``) first, then the source tree."""
    package = Path(str(resources.files("agentdesk")))
    return [package / "resources" / _RELATIVE, package.parents[1] / "resources" / _RELATIVE]


def default_rules_path() -> Path:
    """The path of the default rule file.

    Raises:
        FileNotFoundError: when neither the installed nor the source-tree copy exists.
    """
    for path in _candidates():
        if path.is_file():
            return path
    raise FileNotFoundError(f"default_rules.toml not found in {_candidates()}")


def default_rules() -> RuleSet:
    """The [P] default contact policy of DOMAIN.md §6 (≤ 2 per 7 days, 24 h gap, …)."""
    return load_rules(default_rules_path().read_text(encoding="utf-8"))
