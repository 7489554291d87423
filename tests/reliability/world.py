"""A small central store for sync tests: migrated, a few customers, users with passwords.

Built with the service's own functions (``migrate``, ``create_user``) and its models; the demo
seeder is not needed for these tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from agentdesk.domain import CustomerAttributes, CustomerView
from agentdesk.policy import default_rules
from agentdesk.protocol import to_row
from agentdesk_sync.auth import create_user
from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine, migrate

__all__ = ["REGION", "LedgerRow", "customer_ids", "ledger", "ledger_count", "prepare_central"]

REGION = "440100"


def customer_ids(count: int) -> list[str]:
    """``C00000001`` … for ``count`` customers."""
    return [f"C{n:08d}" for n in range(1, count + 1)]


def _customer_values(customer_id: str, region: str, now: datetime) -> dict[str, Any]:
    attributes = CustomerAttributes(
        customer_id=customer_id,
        msisdn="138" + customer_id[-8:],
        name=f"客户{customer_id[-3:]}",
        id_number=f"4401011990010{customer_id[-5:]}",
        region_code=region,
    )
    row = to_row(CustomerView(attributes=attributes))
    row.pop("holdings", None)
    row.pop("usage", None)
    return {
        "customer_id": customer_id, "msisdn": attributes.msisdn, "name": attributes.name,
        "id_type": "national_id", "id_number": attributes.id_number, "region_code": region,
        "segment_id": "SS3", "account_manager_id": None, "contact_address": "", "row": row,
        "row_seq": 0, "updated_at": now,
    }  # fmt: skip


def prepare_central(
    db_url: str,
    *,
    customers: int = 20,
    users: Iterable[tuple[str, str]] = (("cc1", "call_centre"), ("cc2", "call_centre")),
    portfolios: dict[str, list[str]] | None = None,
    all_day: bool = True,
) -> list[str]:
    """Migrate ``db_url`` and add ``customers`` customers of :data:`REGION` and the users.

    Every user gets the password ``pw-<user>`` and the region :data:`REGION`; ``portfolios``
    gives field users their customers. With ``all_day`` (the default) the store gets a rule set
    without quiet hours, so that what the harness does at the wall-clock time it runs does not
    depend on the hour of the day in China; quiet hours are proven by the policy's own tests,
    which fix the clock.

    Returns:
        The customer ids.
    """
    migrate(db_url)
    engine = make_engine(db_url)
    ids = customer_ids(customers)
    now = datetime.now(UTC)
    try:
        with Session(engine) as session, session.begin():
            session.execute(insert(m.Customer), [_customer_values(c, REGION, now) for c in ids])
            for user, role in users:
                portfolio = (portfolios or {}).get(user, [])
                regions = [] if role == "field" else [REGION]
                create_user(session, user, f"pw-{user}", role, regions=regions, portfolio=portfolio)
            if all_day:
                session.execute(insert(m.RuleSet), [_all_day_rules(now)])
    finally:
        engine.dispose()
    return ids


def _all_day_rules(now: datetime) -> dict[str, object]:
    """The default rule set without its quiet-hours rule, as the next rule_set version."""
    rules = default_rules().to_dict()
    rules["rules"] = [r for r in rules["rules"] if r["kind"] != "quiet_hours"]
    rules["version"] = rules["version"] + 1
    source = "# default rules without quiet hours (test harness)\n"
    return {"version": rules["version"], "source": source, "rules": rules, "created_at": now}


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One row of the server's contact ledger, as the checker needs it."""

    contact_id: str
    customer_id: str
    note: str
    status: str


def ledger(db_url: str) -> list[LedgerRow]:
    """Every contact row of the central ledger."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(m.Contact.contact_id, m.Contact.customer_id,
                                       m.Contact.row, m.Contact.result)).all()  # fmt: skip
    finally:
        engine.dispose()
    return [
        LedgerRow(
            r[0], r[1], str((r[2] or {}).get("note", "")), str((r[3] or {}).get("status", ""))
        )
        for r in rows
    ]


def ledger_count(db_url: str) -> int:
    """How many contact rows the ledger holds."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(m.Contact)).scalar_one())
    finally:
        engine.dispose()
