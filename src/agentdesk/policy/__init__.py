"""Contact policy: rules as data, pure evaluation, reasons, push-time checks (no I/O)."""

from agentdesk.policy.check import check_contact
from agentdesk.policy.decision import Budget, Decision, Outcome, Reason, ReasonCode, Violation
from agentdesk.policy.defaults import default_rules, default_rules_path
from agentdesk.policy.evaluate import Evaluator, evaluate
from agentdesk.policy.rules import Rule, RuleKind, RuleSet, load_rules

__all__ = [
    "Budget",
    "Decision",
    "Evaluator",
    "Outcome",
    "Reason",
    "ReasonCode",
    "Rule",
    "RuleKind",
    "RuleSet",
    "Violation",
    "check_contact",
    "default_rules",
    "default_rules_path",
    "evaluate",
    "load_rules",
]
