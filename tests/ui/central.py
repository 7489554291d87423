"""A real central service in-process (FastAPI app on an embedded SQLite file) for UI tests.

The desktop talks to it through the real ``ApiClient`` over Starlette's ``TestClient`` (an
``httpx.Client``), so login, push, pull and claims run the service's real code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

from agentdesk.domain import (
    Campaign,
    Channel,
    CustomerAttributes,
    CustomerView,
    Offer,
    TargetListEntry,
)
from agentdesk.protocol import to_row
from agentdesk.sync import ApiClient
from agentdesk_sync.app import create_app
from agentdesk_sync.auth import create_user
from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine, migrate

NOW = datetime.now(UTC)
PASSWORD = "pw-agent-1"
NAMES = ("王小明", "王小红", "李建国", "张丽华", "陈志强", "王秀英")


@dataclass
class Central:
    """The in-process service and how to reach it."""

    client: TestClient
    url: str

    def api(self, token: str | None = None) -> ApiClient:
        """A real API client bound to the in-process app."""
        return ApiClient(client=self.client, token=token)

    def logged_in(self, user: str = "agent2", device_id: str = "dev-2") -> ApiClient:
        """A real API client logged in as ``user`` (by default a colleague, 坐席二)."""
        api = self.api()
        api.login(user, PASSWORD, device_id)
        return api


def _customers(engine: object) -> None:
    with Session(engine) as session:  # type: ignore[arg-type]
        for i, name in enumerate(NAMES, start=1):
            cid = f"C{i:08d}"
            attrs = CustomerAttributes(
                customer_id=cid,
                msisdn=f"1380000{i:04d}",
                name=name,
                id_number=f"44010119900101{i:04d}",
                region_code="440100",
            )
            row = to_row(CustomerView(attributes=attrs))
            row.pop("holdings")
            row.pop("usage")
            session.execute(
                insert(m.Customer).values(
                    customer_id=cid,
                    msisdn=attrs.msisdn,
                    name=name,
                    id_type="national_id",
                    id_number=attrs.id_number,
                    region_code="440100",
                    segment_id="SS3",
                    account_manager_id=None,
                    contact_address="",
                    row=row,
                    row_seq=0,
                    updated_at=NOW,
                )
            )
        campaign = Campaign(
            campaign_id="K0001",
            name="流量包",
            channels=(Channel.OUTBOUND_CALL, Channel.INBOUND_CALL),
            strategy="upsell",
            target_group="all",
            valid_from=NOW - timedelta(days=30),
            valid_to=NOW + timedelta(days=30),
            created_at=NOW - timedelta(days=30),
        )
        offer = Offer(
            offer_id="O0001",
            campaign_id="K0001",
            title="10GB 流量包",
            product_code="DP10",
            monthly_fee=20.0,
            scripts={"default": "您好"},
        )
        session.execute(
            insert(m.Campaign).values(campaign_id="K0001", row=to_row(campaign), row_seq=0)
        )
        session.execute(
            insert(m.Offer).values(
                offer_id="O0001", campaign_id="K0001", row=to_row(offer), row_seq=0
            )
        )
        for i in range(1, len(NAMES) + 1):
            target = TargetListEntry(customer_id=f"C{i:08d}", campaign_id="K0001")
            session.execute(
                insert(m.TargetMember).values(
                    campaign_id="K0001",
                    customer_id=target.customer_id,
                    row=to_row(target),
                    row_seq=0,
                )
            )
        create_user(session, "agent1", PASSWORD, "call_centre", regions=["440100"], name="坐席一")
        create_user(session, "agent2", PASSWORD, "call_centre", regions=["440100"], name="坐席二")
        create_user(
            session,
            "am1",
            PASSWORD,
            "field",
            portfolio=[f"C{i:08d}" for i in range(1, len(NAMES) + 1)],
            name="客户经理一",
        )
        session.commit()


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    """A migrated, seeded central store served in-process."""
    url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        _customers(engine)
    finally:
        engine.dispose()
    with TestClient(create_app(url)) as client:
        yield Central(client=client, url=url)
