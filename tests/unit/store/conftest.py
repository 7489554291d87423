"""Fixtures of the store tests: an open cache in ``tmp_path`` and wire-row builders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentdesk.domain import (
    Channel,
    ChurnInfo,
    Contact,
    CustomerAttributes,
    CustomerView,
    ResultCode,
    ValueInfo,
)
from agentdesk.protocol import Change, to_row
from agentdesk.store import CacheDB

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty cache file, migrated once per session and copied by ``db``."""
    path = tmp_path_factory.mktemp("template") / "cache.db"
    CacheDB.open(path).close()
    return path


@pytest.fixture
def db(tmp_path: Path, template_db: Path) -> Iterator[CacheDB]:
    """A fresh, migrated cache file."""
    path = tmp_path / "cache.db"
    shutil.copyfile(template_db, path)
    cache = CacheDB.open(path)
    yield cache
    cache.close()


def customer_row(
    customer_id: str,
    name: str,
    msisdn: str,
    id_number: str = "440103199001011234",
    region_code: str = "440100",
    **extra: Any,
) -> dict[str, Any]:
    """The wire row of a ``customer`` change."""
    attrs = CustomerAttributes(
        customer_id=customer_id,
        msisdn=msisdn,
        name=name,
        id_number=id_number,
        region_code=region_code,
        **extra,
    )
    view = CustomerView(
        attributes=attrs, value=ValueInfo(value_tier=2, arpu_3m=88.0), churn=ChurnInfo()
    )
    row = to_row(view)
    row.pop("holdings", None)
    row.pop("usage", None)
    return row


def customer_change(seq: int, customer_id: str, name: str, msisdn: str, **kw: Any) -> Change:
    """A ``put`` of one customer."""
    return Change(
        seq=seq,
        entity="customer",
        op="put",
        id=customer_id,
        row=customer_row(customer_id, name, msisdn, **kw),
    )


def make_contact(
    customer_id: str = "C00000001", contact_id: str = "", minutes: int = 0, **kw: Any
) -> Contact:
    """A reached, no-offer outbound call."""
    start = T0 + timedelta(minutes=minutes)
    fields: dict[str, Any] = {
        "contact_id": contact_id,
        "customer_id": customer_id,
        "channel": Channel.OUTBOUND_CALL,
        "started_at": start,
        "ended_at": start + timedelta(minutes=3),
        "result_code": ResultCode.REACHED_NO_OFFER,
        "staff_id": "agent1",
    }
    fields.update(kw)
    return Contact(**fields)


def contact_change(seq: int, contact: Contact, result: dict[str, Any] | None = None) -> Change:
    """A pulled ``contact`` change (the ledger row + the push result)."""
    row = to_row(contact)
    row["result"] = result
    row["server_seq"] = seq
    return Change(seq=seq, entity="contact", op="put", id=contact.contact_id, row=row)
