"""Fixtures of the API tests: a migrated central store with users of every role, and clients.

Customers: ``C00000001``/``C00000002`` in Guangzhou (440100), ``C00000003``/``C00000004`` in
Shanghai (310100); ``C00000003`` is the portfolio of the field user ``fa1``. Each user has a
ready bearer token ``tok-<user>``; logging in with the password ``pw-<user>`` works as well.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from agentdesk.domain import (
    Campaign,
    Channel,
    CustomerAttributes,
    CustomerView,
    Offer,
    Segment,
    TargetListEntry,
)
from agentdesk.protocol import to_row
from agentdesk_sync.app import create_app
from agentdesk_sync.auth import token_hash
from agentdesk_sync.db import models as m
from agentdesk_sync.db.engine import make_engine, migrate

GZ, SH = "440100", "310100"
USERS: dict[str, dict[str, Any]] = {
    "cc1": {"role": "call_centre", "regions": [GZ]},
    "cc2": {"role": "call_centre", "regions": [GZ]},
    "st1": {"role": "store", "regions": [SH]},
    "fa1": {"role": "field", "regions": [], "portfolio": ["C00000003"]},
    "sup": {"role": "supervisor", "regions": []},
    "adm": {"role": "admin", "regions": []},
}
CUSTOMERS = {"C00000001": GZ, "C00000002": GZ, "C00000003": SH, "C00000004": SH}
NOW = datetime.now(UTC)


def customer_row(customer_id: str, region: str, **attrs: Any) -> dict[str, Any]:
    """The stored wire row of a customer (view without holdings/usage)."""
    attributes = CustomerAttributes(
        customer_id=customer_id,
        msisdn="1380000" + customer_id[-4:],
        name=f"客户{customer_id[-1]}",
        id_number=f"44010119900101{customer_id[-4:]}",
        region_code=region,
        **attrs,
    )
    row = to_row(CustomerView(attributes=attributes))
    row.pop("holdings"), row.pop("usage")
    return row


def insert_customer(engine: Engine, customer_id: str, region: str, **attrs: Any) -> None:
    """Insert one customer."""
    row = customer_row(customer_id, region, **attrs)
    a = row["attributes"]
    with engine.begin() as conn:
        conn.execute(
            insert(m.Customer).values(
                customer_id=customer_id,
                msisdn=a["msisdn"],
                name=a["name"],
                id_type="national_id",
                id_number=a["id_number"],
                region_code=region,
                segment_id="SS3",
                account_manager_id=None,
                contact_address="",
                row=row,
                row_seq=0,
                updated_at=NOW,
            )
        )


def _seed(engine: Engine, hashes: dict[str, str]) -> None:
    for cid, region in CUSTOMERS.items():
        insert_customer(engine, cid, region)
    campaign = Campaign(
        campaign_id="K0001",
        name="流量包",
        channels=(Channel.OUTBOUND_CALL,),
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
        eligible_segments=(Segment.SS3,),
    )
    target = TargetListEntry(customer_id="C00000001", campaign_id="K0001")
    with engine.begin() as conn:
        conn.execute(
            insert(m.Campaign).values(campaign_id="K0001", row=to_row(campaign), row_seq=0)
        )
        conn.execute(
            insert(m.Offer).values(
                offer_id="O0001", campaign_id="K0001", row=to_row(offer), row_seq=0
            )
        )
        conn.execute(
            insert(m.TargetMember).values(
                campaign_id="K0001", customer_id="C00000001", row=to_row(target), row_seq=0
            )
        )
        for user, spec in USERS.items():
            conn.execute(
                insert(m.AppUser).values(
                    user_id=user,
                    username=user,
                    name=user.upper(),
                    role=spec["role"],
                    channels={"items": []},
                    regions={"items": spec["regions"]},
                    password_hash=hashes[user],
                    created_at=NOW,
                )
            )
            for cid in spec.get("portfolio", []):
                conn.execute(insert(m.Portfolio).values(user_id=user, customer_id=cid))
            conn.execute(
                insert(m.AuthToken).values(
                    token_hash=token_hash(f"tok-{user}"),
                    user_id=user,
                    device_id="test",
                    expires_at=NOW + timedelta(hours=12),
                    revoked=False,
                    created_at=NOW,
                )
            )


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """argon2 hashes of ``pw-<user>``, computed once (hashing is deliberately slow)."""
    hasher = PasswordHasher()
    return {user: hasher.hash(f"pw-{user}") for user in USERS}


def seeded_store(url: str, password_hashes: dict[str, str]) -> str:
    """Migrate and seed the central store at ``url``; returns the URL."""
    migrate(url)
    engine = make_engine(url)
    try:
        _seed(engine, password_hashes)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def store(db_url: str, password_hashes: dict[str, str]) -> str:
    """A migrated, seeded central store; returns its URL."""
    return seeded_store(db_url, password_hashes)


@pytest.fixture
def sync_engine(store: str) -> Iterator[Engine]:
    """A synchronous engine on the test store, for direct checks."""
    engine = make_engine(store)
    yield engine
    engine.dispose()


@dataclass
class Api:
    """A TestClient with per-user helpers."""

    client: TestClient

    def headers(self, user: str) -> dict[str, str]:
        """Authorization header of ``user``."""
        return {"Authorization": f"Bearer tok-{user}"}

    def get(self, user: str, path: str, **kw: Any) -> Any:
        """GET as ``user``."""
        return self.client.get(path, headers=self.headers(user), **kw)

    def post(self, user: str, path: str, body: Any = None, **kw: Any) -> Any:
        """POST JSON as ``user``."""
        return self.client.post(path, headers=self.headers(user), json=body, **kw)

    def delete(self, user: str, path: str) -> Any:
        """DELETE as ``user``."""
        return self.client.delete(path, headers=self.headers(user))


@pytest.fixture
def api(store: str) -> Iterator[Api]:
    """The app on the test store behind a TestClient (lifespan running)."""
    with TestClient(create_app(store)) as client:
        yield Api(client)


def add_user(engine: Engine, user: str, role: str, regions: list[str], password_hash: str) -> None:
    """Insert a user with the ready token ``tok-<user>``."""
    with engine.begin() as conn:
        conn.execute(
            insert(m.AppUser).values(
                user_id=user,
                username=user,
                name=user.upper(),
                role=role,
                channels={"items": []},
                regions={"items": regions},
                password_hash=password_hash,
                created_at=NOW,
            )
        )
        conn.execute(
            insert(m.AuthToken).values(
                token_hash=token_hash(f"tok-{user}"),
                user_id=user,
                device_id="test",
                expires_at=NOW + timedelta(hours=12),
                revoked=False,
                created_at=NOW,
            )
        )


@dataclass
class LiveServer:
    """uvicorn serving the app on a real loopback socket, in a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_live_server(db_url: str, **app_kw: Any) -> LiveServer:
    """Serve ``create_app(db_url)`` on 127.0.0.1 on a free port (the socket listens at once)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(db_url, **app_kw), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture
def live(store: str) -> Iterator[LiveServer]:
    """The app behind uvicorn on a real socket."""
    server = start_live_server(store, heartbeat_s=0.5)
    yield server
    server.stop()
