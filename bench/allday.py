"""A rule set without quiet hours for the run's copy of the central store.

Claims are checked against the contact policy, and outbound calls are refused during quiet
hours in China (21:00–09:00 local). A claim benchmark run at those hours would time a refusal,
not a grant, so the run's store gets the newest rule set minus its ``quiet_hours`` rules as the
next ``rule_set`` version (as the reliability tests do with ``prepare_central(all_day=True)``).
Every other rule (do-not-contact, consent, caps, gaps, ...) stays. Only run copies are changed,
never the cached data set.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["install_all_day_rules"]


def install_all_day_rules(db_url: str) -> int:
    """Add the newest rule set without quiet hours as the next version; returns that version.

    Does nothing (and returns the newest version) when the newest set has no quiet hours.
    """
    from sqlalchemy import func, insert, select

    from agentdesk.policy import default_rules
    from agentdesk_sync.db import models as m
    from agentdesk_sync.db.engine import make_engine

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            version = conn.execute(select(func.max(m.RuleSet.version))).scalar_one_or_none()
            if version is None:
                rules = default_rules().to_dict()
            else:
                stmt = select(m.RuleSet.rules).where(m.RuleSet.version == version)
                rules = dict(conn.execute(stmt).scalar_one())
            kept = [r for r in rules["rules"] if r.get("kind") != "quiet_hours"]
            if version is not None and len(kept) == len(rules["rules"]):
                return int(version)
            new_version = int(version or rules.get("version", 0)) + 1
            rules = {**rules, "rules": kept, "version": new_version}
            source = "# the store's rules without quiet hours (benchmark run copy)\n"
            row = {"version": new_version, "source": source, "rules": rules,
                   "created_at": datetime.now(UTC)}  # fmt: skip
            conn.execute(insert(m.RuleSet), [row])
            return new_version
    finally:
        engine.dispose()
