"""Fixtures of the integration tests: the real service (``agentdesk-sync serve``) on a random
loopback port over a temp SQLite store, and real clients (cache file + httpx + engine)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentdesk.store import CacheDB
from agentdesk.sync import ApiClient, SyncEngine
from agentdesk.sync.cachestore import CacheSyncStore
from tests.reliability.service import ServiceProcess
from tests.reliability.world import prepare_central


@dataclass
class Central:
    """The central store and its running service."""

    db_url: str
    customers: list[str]
    service: ServiceProcess


@dataclass
class Client:
    """One desktop: its cache, API client and sync engine."""

    name: str
    db: CacheDB
    api: ApiClient
    engine: SyncEngine


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    """A seeded central store served by a real ``agentdesk-sync serve`` process."""
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    customers = prepare_central(db_url, customers=12)
    central = Central(db_url, customers, ServiceProcess(db_url, tmp_path / "service.log").start())
    yield central
    central.service.stop()  # the test may have replaced it (restart on the same port)


@pytest.fixture
def make_client(tmp_path: Path, central: Central) -> Iterator[Callable[[str, str], Client]]:
    """A factory of logged-in clients: ``make_client(device_name, user)``."""
    made: list[Client] = []

    def make(name: str, user: str) -> Client:
        db = CacheDB.open(tmp_path / f"{name}.db")
        api = ApiClient(central.service.url)
        api.login(user, f"pw-{user}", name)
        client = Client(name, db, api, SyncEngine(CacheSyncStore(db), api, name))
        made.append(client)
        return client

    yield make
    for client in made:
        client.api.close()
        client.db.close()
