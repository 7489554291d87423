"""P8: first sync of a big scope, end to end (real service, real client engine, loopback).

``python -m tests.reliability.first_sync --db sqlite:///COPY_OF_SEEDED.db [--limit 10000]``
adds a supervisor (every region is in scope), starts ``agentdesk-sync serve`` on the store,
and times one ``SyncEngine.run_once()`` from an empty cache: the snapshot pages, the switch to
the change feed, and the index rebuild at the end. Use a copy of the seeded store: logging in
writes a token row.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from agentdesk.store import CacheDB
from agentdesk.sync import ApiClient, SyncEngine
from agentdesk.sync.cachestore import CacheSyncStore
from agentdesk_sync.auth import create_user
from agentdesk_sync.db.engine import make_engine
from tests.reliability.service import ServiceProcess


def _add_supervisor(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            create_user(session, "p8sup", "pw-p8sup", "supervisor")
    finally:
        engine.dispose()


def main() -> None:
    """Run the measurement and print one line."""
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.first_sync")
    parser.add_argument("--db", required=True)
    parser.add_argument("--limit", type=int, default=10_000)
    ns = parser.parse_args()
    _add_supervisor(ns.db)
    folder = Path(tempfile.mkdtemp(prefix="agentdesk-p8-"))
    with ServiceProcess(
        ns.db,
        folder / "service.log",
    ) as service:
        db = CacheDB.open(folder / "cache.db")
        api = ApiClient(service.url)
        api.login("p8sup", "pw-p8sup", "p8")
        engine = SyncEngine(CacheSyncStore(db), api, "p8", pull_limit=ns.limit)
        started = time.perf_counter()
        report = engine.run_once()
        seconds = time.perf_counter() - started
        with db.reader() as conn:
            customers = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
        db.close()
    print(
        f"P8 first sync: customers={customers} changes={report.pulled} pages={report.pages} "
        f"seconds={seconds:.1f} rows_per_s={report.pulled / seconds:,.0f} ok={report.ok} "
        f"error={report.error!r}"
    )


if __name__ == "__main__":
    main()
