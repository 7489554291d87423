"""Rows every central store starts with: the change sequencer, meta facts and rule set 1.

* ``sequencer('change') = 0``: the first change gets ``server_seq`` 1;
* ``meta('epoch')`` = a random hex id, new for every store (cursors of another store are foreign);
  ``meta('retention_floor') = 0``;
* ``rule_set`` version 1 from ``resources/policy/default_rules.toml`` when that file exists.

All inserts are idempotent, so running this twice changes nothing.
"""

from __future__ import annotations

import tomllib
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from agentdesk.paths import resource_path
from agentdesk.policy import load_rules
from agentdesk_sync.db.models import Meta, RuleSet, Sequencer

__all__ = ["DEFAULT_RULES_FILE", "parse_rules", "seed_initial_rows"]

DEFAULT_RULES_FILE = ("policy", "default_rules.toml")


def parse_rules(source: str) -> dict[str, Any]:
    """The JSON form of a TOML rule set: the policy package's parsed dict when available.

    Args:
        source: TOML text of a rule set.

    Returns:
        ``agentdesk.policy.load_rules(source).to_dict()``, or, when the policy package cannot
        parse it, the plain TOML tables plus ``{"source_format": "toml"}``.
    """
    try:
        return load_rules(source).to_dict()
    except Exception:
        return {**tomllib.loads(source), "source_format": "toml"}


def _insert_missing(conn: Connection, model: Any, key: str, values: dict[str, Any]) -> None:
    table = model.__table__
    column = table.c[key]
    if conn.execute(select(column).where(column == values[key])).first() is None:
        conn.execute(table.insert().values(**values))


def seed_initial_rows(conn: Connection) -> None:
    """Insert the sequencer, meta and default rule-set rows that are missing."""
    _insert_missing(conn, Sequencer, "name", {"name": "change", "value": 0})
    _insert_missing(conn, Meta, "key", {"key": "epoch", "value": uuid.uuid4().hex})
    _insert_missing(conn, Meta, "key", {"key": "retention_floor", "value": "0"})
    rules_file = resource_path(*DEFAULT_RULES_FILE)
    if rules_file.is_file():
        source = rules_file.read_text(encoding="utf-8")
        _insert_missing(
            conn,
            RuleSet,
            "version",
            {
                "version": 1,
                "source": source,
                "rules": parse_rules(source),
                "created_at": datetime.now(UTC),
            },
        )
