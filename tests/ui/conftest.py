"""Fixtures of the UI tests: a real cache with a small demo data set, and a built desktop.

The cache is the store's real SQLite file in ``tmp_path``, filled through the store's own
``apply_changes`` (the path sync uses), so the widgets run against real queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentdesk.domain import (
    Campaign,
    Channel,
    ChurnInfo,
    CustomerAttributes,
    CustomerView,
    Holding,
    Offer,
    Role,
    Segment,
    TargetListEntry,
    UsageMonth,
    User,
    ValueInfo,
    VipLevel,
)
from agentdesk.protocol import Change, to_row, usage_row
from agentdesk.services import Services, build_services
from agentdesk.services.auth import LoginResult
from agentdesk.services.dto import UserSession
from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes
from tests.ui.central import central  # noqa: F401  (fixture)
from tests.ui.desktop import Desktop, show_desktop

NOW = datetime.now(UTC)
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = ("小明", "小红", "建国", "丽华", "志强", "秀英", "海燕", "国庆", "晓东", "静")
FAMILY_MSISDN = "13900000000"


def _customer(i: int) -> CustomerView:
    name = SURNAMES[i % 10] + GIVEN[(i // 10) % 10]
    msisdn = FAMILY_MSISDN if i in (3, 4) else f"138{i:08d}"
    attrs = CustomerAttributes(
        customer_id=f"C{i:08d}",
        msisdn=msisdn,
        name=name,
        id_number=f"44010319{80 + i % 20:02d}0101{i % 10000:04d}",
        region_code="440100",
        segment_id=list(Segment)[i % 9],
        vip_level=VipLevel.GOLD if i % 7 == 0 else VipLevel.NONE,
        join_date=date(2015, 1, 1) + timedelta(days=i),
        bundle_expiry=date.today() + timedelta(days=21),
        is_sensitive=i == 5,
        sensitive_channels=(Channel.OUTBOUND_CALL,) if i == 5 else (),
        do_not_contact=i == 6,
        contact_address=f"广州市天河区体育西路{i}号",
    )
    return CustomerView(
        attributes=attrs,
        value=ValueInfo(value_tier=1 + i % 5, arpu_3m=58.0 + i, fee_alert=i % 11 == 0),
        churn=ChurnInfo(risk_score=(i % 10) / 10, risk_level="high" if i % 10 > 7 else "low"),
    )


def _changes(count: int) -> list[Change]:
    changes: list[Change] = []
    seq = 0

    def put(entity: str, ident: str, row: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        changes.append(Change(seq=seq, entity=entity, op="put", id=ident, row=row))

    campaign = Campaign(
        campaign_id="K0001",
        name="5G 升级季",
        channels=(Channel.OUTBOUND_CALL, Channel.STORE, Channel.INBOUND_CALL, Channel.FIELD_VISIT),
        strategy="upsell",
        target_group="all",
        valid_from=NOW - timedelta(days=30),
        valid_to=NOW + timedelta(days=60),
        created_at=NOW - timedelta(days=40),
    )
    put("campaign", "K0001", to_row(campaign))
    for j, (title, fee) in enumerate(
        (
            ("5G 畅享套餐 129 元", 129.0),
            ("家庭宽带 300M", 99.0),
            ("流量加油包 10GB", 30.0),
            ("视频会员月包", 15.0),
        )
    ):
        offer = Offer(
            offer_id=f"O000{j + 1}",
            campaign_id="K0001",
            title=title,
            product_code=f"P{j}",
            monthly_fee=fee,
            scripts={"default": f"您好，推荐您{title}。", "outbound_call": f"外呼话术：{title}"},
            base_propensity=0.3 - j * 0.05,
            value=fee / 2,
        )
        put("offer", offer.offer_id, to_row(offer))
    for i in range(1, count + 1):
        view = _customer(i)
        row = to_row(view)
        row.pop("holdings", None)
        row.pop("usage", None)
        put("customer", view.customer_id, row)
        holding = Holding(
            holding_id=f"H{i:08d}",
            customer_id=view.customer_id,
            product_code="PLAN58",
            product_name="4G 套餐 58 元",
            kind="plan",
            monthly_fee=58.0,
            started_on=date(2022, 1, 1),
            ends_on=date.today() + timedelta(days=21),
        )
        put("holding", holding.holding_id, to_row(holding))
        months = []
        for m in reversed(range(6)):  # oldest month first, as the service sends them
            month = (date.today().replace(day=1) - timedelta(days=31 * (m + 1))).strftime("%Y-%m")
            usage = UsageMonth(
                customer_id=view.customer_id,
                month=month,
                voice_min=200 + 10 * m,
                data_mb=8000 + 500 * m,
                sms_count=5,
                arpu=60.0 + m,
            )
            months.append(to_row(usage))
        put("usage_months", view.customer_id, usage_row(view.customer_id, months))
        target = TargetListEntry(
            customer_id=view.customer_id,
            campaign_id="K0001",
            customer_name=view.attributes.name,
            score=float(i % 17),
            in_control_group=i % 13 == 0,
        )
        put("target", f"K0001:{view.customer_id}", to_row(target))
    return changes


@pytest.fixture
def seeded_db(tmp_path: Path) -> Iterator[CacheDB]:
    """A real cache file holding 120 customers, one campaign with four offers, targets."""
    db = CacheDB.open(tmp_path / "cache.db")
    with db.sync_writer() as conn:
        apply_changes(conn, _changes(120), "cursor-1", True)
    yield db
    db.close()


@dataclass
class Built:
    """A session's services over the seeded cache."""

    services: Services
    session: UserSession


def make_session(db: CacheDB, role: Role = Role.CALL_CENTRE) -> UserSession:
    """A logged-in user of ``role`` (offline: no token)."""
    user = User(user_id=f"{role.value}_1", name="测试员", role=role)
    return UserSession(
        user=user, device_id="dev-test", cache_path=db.path, token=None, online=False
    )


@pytest.fixture
def build(seeded_db: CacheDB) -> Any:
    """``build(role)`` → services for a user of that role on the seeded cache (offline)."""

    def make(role: Role = Role.CALL_CENTRE) -> Built:
        session = make_session(seeded_db, role)
        services = build_services(LoginResult(session=session, db=seeded_db, api=None))
        return Built(services=services, session=session)

    return make


Ui = Desktop  # a real main window over the seeded cache (offline: sync reports offline)


@pytest.fixture
def make_ui(qtbot: Any, build: Any) -> Iterator[Any]:
    """``make_ui(role)`` → a shown :class:`Desktop` (main window, task manager, services)."""
    made: list[Desktop] = []

    def make(
        role: Role = Role.CALL_CENTRE, language: str = "en", processes: bool = False
    ) -> Desktop:
        built = build(role)
        ui = show_desktop(
            qtbot, built.services, built.session, language=language, processes=processes
        )
        made.append(ui)
        return ui

    yield make
    for ui in made:
        ui.close(close_db=False)  # the seeded cache is the seeded_db fixture's
    from agentdesk import i18n

    i18n.install("en")
