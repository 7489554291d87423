"""P9: how long until a contact logged on device A shows on device B (both online, loopback).

``python -m tests.reliability.propagation --contacts 50 [--debounce 1.0]`` starts the real
service, two real clients (cache + engine + scheduler with the SSE listener) and prints the
median and p95 of "A committed the contact" → "B's cache has it". B's periodic sync is off
(interval 1 h), so only the server's ``change`` event can wake it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agentdesk.domain import Channel, Contact, ResultCode
from agentdesk.store import CacheDB
from agentdesk.store.outbox import record_outcome
from agentdesk.sync import ApiClient, SyncEngine, SyncReport, SyncScheduler
from agentdesk.sync.cachestore import CacheSyncStore
from tests.reliability.service import ServiceProcess
from tests.reliability.world import prepare_central

__all__ = ["Device", "measure", "open_device"]


@dataclass
class Device:
    """A running client: cache, API client, engine and scheduler."""

    name: str
    db: CacheDB
    api: ApiClient
    scheduler: SyncScheduler
    cycles: threading.Condition = field(default_factory=threading.Condition)

    def close(self) -> None:
        """Stop syncing and close everything."""
        self.scheduler.stop(timeout=30)
        self.api.close()
        self.db.close()

    def has_contact(self, contact_id: str) -> bool:
        """Whether the contact is in this device's cache."""
        with self.db.reader() as conn:
            row = conn.execute("SELECT 1 FROM contact WHERE contact_id = ?", (contact_id,))
            return row.fetchone() is not None


def open_device(
    folder: Path, name: str, user: str, url: str, *, debounce: float, interval: float
) -> Device:
    """Log in and start syncing (SSE listener on)."""
    db = CacheDB.open(folder / f"{name}.db")
    api = ApiClient(url)
    api.login(user, f"pw-{user}", name)
    engine = SyncEngine(CacheSyncStore(db), api, name)
    scheduler = SyncScheduler(engine, interval=interval, debounce=debounce, sse_read_timeout=5)
    device = Device(name, db, api, scheduler)

    def wake(_report: SyncReport) -> None:
        with device.cycles:
            device.cycles.notify_all()

    scheduler.add_listener(wake)
    scheduler.start()
    return device


def _contact(customer: str, n: int) -> Contact:
    started = datetime.now(UTC) - timedelta(minutes=10)
    return Contact(
        contact_id="", customer_id=customer, channel=Channel.INBOUND_CALL, started_at=started,
        ended_at=started + timedelta(minutes=2), result_code=ResultCode.REACHED_NO_OFFER,
        staff_id="", note=f"p9:{n}",
    )  # fmt: skip


def measure(a: Device, b: Device, customers: list[str], count: int) -> list[float]:
    """Log ``count`` contacts on ``a`` one by one; seconds until each is in ``b``'s cache."""
    latencies = []
    for n in range(count):
        with a.db.writer() as conn:
            entry = record_outcome(conn, _contact(customers[n % len(customers)], n))
        start = time.perf_counter()
        a.scheduler.notify_local_write()
        with b.cycles:
            arrived = b.cycles.wait_for(lambda e=entry.id: b.has_contact(e), timeout=60)
        if not arrived:
            raise TimeoutError(f"contact {entry.id} never reached {b.name}")
        latencies.append(time.perf_counter() - start)
    return latencies


def main() -> None:
    """Command line: run the measurement and print median and p95."""
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.propagation")
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--debounce", type=float, default=1.0)
    ns = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="agentdesk-p9-"))
    url = f"sqlite:///{folder / 'central.db'}"
    customers = prepare_central(url, customers=20)
    with ServiceProcess(url, folder / "service.log") as service:
        a = open_device(folder, "A", "cc1", service.url, debounce=ns.debounce, interval=3600)
        b = open_device(folder, "B", "cc2", service.url, debounce=ns.debounce, interval=3600)
        try:
            values = measure(a, b, customers, ns.contacts)
        finally:
            a.close()
            b.close()
    p95 = statistics.quantiles(values, n=20)[18] if len(values) >= 2 else values[0]
    print(
        f"P9 propagation A->B: n={len(values)} debounce={ns.debounce}s "
        f"median={statistics.median(values) * 1000:.0f} ms p95={p95 * 1000:.0f} ms "
        f"max={max(values) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
