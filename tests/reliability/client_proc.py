"""The reliability client: the REAL store and sync engine in their own process.

It opens a cache file, records contacts through ``agentdesk.store.outbox.record_outcome``
(the same call the app makes), and syncs through the real :class:`SyncEngine` (usually via the
fault proxy). It writes what it did to a log file, one line per fact, flushed at once so that a
``kill -9`` loses nothing that happened before it::

    ready
    saved <contact_id> <marker>          after the local commit returned
    cycle <acked> <conflicts> <rejected> <error|->
    cursor <max_seq> <cursor seq>        after each cycle
    drained <cycles>                     the outbox emptied after that many cycles

Run it by hand with ``python -m tests.reliability.client_proc --help``; the harness starts
it through a multiprocessing fork server (imports done once), which is the same code.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from agentdesk.domain import Channel, Contact, ResultCode
from agentdesk.store import CacheDB
from agentdesk.store.apply import sync_position
from agentdesk.store.outbox import record_intent, record_outcome
from agentdesk.store.outbox_sync import counts
from agentdesk.sync import ApiClient, SyncEngine, SyncError
from agentdesk.sync.cachestore import CacheSyncStore
from agentdesk_sync.pull import decode_cursor

__all__ = ["DriverArgs", "child_main", "main", "run_driver"]


@dataclass
class DriverArgs:
    """What one driver run does (see the module docstring)."""

    cache: str
    log: str
    url: str
    user: str = "cc1"
    device_id: str = "dev-1"
    marker: str = "m"
    customers: list[str] = field(default_factory=lambda: ["C00000001"])
    rounds: int = 3
    per_round: int = 3
    channel: str = "inbound_call"
    started_hours_ago: float = 1.0
    started_at: str | None = None  # ISO UTC; overrides started_hours_ago
    online: bool = True
    drain: bool = False
    max_drain_cycles: int = 30
    intents_out_of_scope: int = 0
    pull_limit: int | None = None
    read_timeout: float = 5.0
    seed: int = 0
    env: dict[str, str] = field(default_factory=dict)


class _Log:
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def line(self, text: str) -> None:
        os.write(self._fd, (text + "\n").encode())


def _next_number(db: CacheDB, marker: str) -> int:
    """Continue the numbering of this marker's contacts after a restart (never re-record)."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE kind = 'contact' AND "
            "json_extract(payload, '$.note') LIKE ?",
            (f"{marker}:%",),
        ).fetchone()
    return int(row[0])


def _contact(args: DriverArgs, rng: random.Random, number: int) -> Contact:
    started = datetime.now(UTC) - timedelta(hours=args.started_hours_ago)
    if args.started_at:
        started = datetime.fromisoformat(args.started_at)
    return Contact(
        contact_id="",
        customer_id=rng.choice(args.customers),
        channel=Channel(args.channel),
        started_at=started,
        ended_at=started + timedelta(minutes=3),
        result_code=ResultCode.REACHED_NO_OFFER,
        staff_id=args.user,
        note=f"{args.marker}:{number}",
    )


def _record(db: CacheDB, args: DriverArgs, rng: random.Random, log: _Log, number: int) -> int:
    for _ in range(args.per_round):
        with db.writer() as conn:
            entry = record_outcome(conn, _contact(args, rng, number), device_id=args.device_id)
        log.line(f"saved {entry.id} {args.marker}:{number}")
        number += 1
    return number


def _cycle(engine: SyncEngine, db: CacheDB, log: _Log) -> int:
    report = engine.run_once()
    error = report.error.code if report.error else "-"
    log.line(f"cycle {report.acked} {report.conflicts} {report.rejected} {error}")
    with db.reader() as conn:
        position = sync_position(conn)
        waiting = counts(conn).waiting
    if position is not None and position.cursor:
        log.line(f"cursor {position.max_seq} {decode_cursor(position.cursor).s}")
    return waiting


def _login(api: ApiClient, args: DriverArgs) -> bool:
    """Reuse the device's saved token when there is one (as the app does); log in otherwise."""
    saved = Path(args.cache + ".token")
    token = saved.read_text() if saved.exists() else ""
    if token:
        api.token = token
        return True
    try:
        api.login(args.user, f"pw-{args.user}", args.device_id)
    except SyncError:
        return False
    partial = saved.with_suffix(".tmp")
    partial.write_text(api.token or "")
    partial.replace(saved)
    return True


def run_driver(args: DriverArgs) -> int:
    """Record and sync as ``args`` says; returns the process exit code (0 ok)."""
    os.environ.update(args.env)
    rng = random.Random(args.seed)
    log = _Log(args.log)
    db = CacheDB.open(Path(args.cache))
    api = ApiClient(args.url, timeout=httpx.Timeout(args.read_timeout, connect=3.0))
    engine = SyncEngine(CacheSyncStore(db), api, args.device_id, pull_limit=args.pull_limit)
    logged_in = args.online and _login(api, args)
    log.line("ready")
    number = _next_number(db, args.marker)
    for _ in range(args.rounds):
        number = _record(db, args, rng, log, number)
        if logged_in:
            _cycle(engine, db, log)
        elif args.online:
            logged_in = _login(api, args)
    for _ in range(args.intents_out_of_scope):
        _queue_foreign_intent(db)
    if args.drain:
        return _drain(engine, db, api, args, log)
    db.close()
    return 0


def _queue_foreign_intent(db: CacheDB) -> None:
    payload: dict[str, Any] = {"customer_id": "C99999999", "due_at": "2030-01-01T02:00:00Z"}
    with db.writer() as conn:
        record_intent(conn, "callback", payload)


def _drain(engine: SyncEngine, db: CacheDB, api: ApiClient, args: DriverArgs, log: _Log) -> int:
    for cycle in range(1, args.max_drain_cycles + 1):
        if api.token is None and not _login(api, args):
            time.sleep(0.2)
            continue
        if _cycle(engine, db, log) == 0:
            log.line(f"drained {cycle}")
            db.close()
            return 0
        time.sleep(0.1 * cycle)
    db.close()
    return 3


def child_main(args: DriverArgs) -> None:
    """Entry point of a fork-server child: exit with the driver's code."""
    raise SystemExit(run_driver(args))


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--cache F --log F --url U [--marker M] [--rounds N] [--drain]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", default="cc1")
    parser.add_argument("--device-id", default="dev-1")
    parser.add_argument("--marker", default="m")
    parser.add_argument("--customers", default="C00000001")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=3)
    parser.add_argument("--offline", action="store_true")
    parser.add_argument("--drain", action="store_true")
    ns = parser.parse_args(argv)
    args = DriverArgs(
        cache=ns.cache, log=ns.log, url=ns.url, user=ns.user, device_id=ns.device_id,
        marker=ns.marker, customers=ns.customers.split(","), rounds=ns.rounds,
        per_round=ns.per_round, online=not ns.offline, drain=ns.drain,
    )  # fmt: skip
    return run_driver(args)


if __name__ == "__main__":
    raise SystemExit(main())
