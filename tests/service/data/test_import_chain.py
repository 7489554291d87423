"""The customer import's merge-check shortcut: a batch skips reading the change log only when
nothing but the import's own batches committed since its read (:class:`Chain`), and a batch
checks from the oldest in-flight batch's mark, so a merge that made an earlier batch read again
(and write a kept customer this one holds) makes it read again too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from agentdesk_sync.db.engine import make_engine
from agentdesk_sync.importers import pipeline as pipeline_module
from agentdesk_sync.importers import run_import
from agentdesk_sync.importers.batch import BatchResult
from agentdesk_sync.importers.mapping import Mapping
from agentdesk_sync.importers.reader import Record, read_records
from agentdesk_sync.importers.upsert import Chain, write_staged
from agentdesk_sync.merge import merge_customers


def test_a_chain_of_contiguous_batches_is_alone_since_its_start() -> None:
    chain = Chain()
    chain.committed(range(5, 8))  # the import's first batch took 5..7
    chain.committed(range(8, 10))  # and the next one 8..9: one unbroken run
    assert chain.alone_since(4, 9)  # everything after 4 is the import's own
    assert chain.alone_since(6, 9)  # read in the middle of the run
    chain.committed(range(0))  # a batch that wrote nothing changes nothing
    assert chain.alone_since(4, 9)


def test_another_writer_before_the_chain_or_after_its_end_is_not_alone() -> None:
    chain = Chain()
    chain.committed(range(5, 8))
    assert not chain.alone_since(3, 7)  # change 4 is someone else's (a merge, a push)
    assert not chain.alone_since(4, 9)  # 8 and 9 committed after the import's last batch
    assert not Chain().alone_since(4, 9)  # nothing of the import's own yet
    assert Chain().alone_since(9, 9)  # nothing committed since the read at all


def test_a_chain_broken_by_another_writer_starts_again() -> None:
    chain = Chain()
    chain.committed(range(5, 8))
    chain.committed(range(9, 11))  # change 8 was another writer's
    assert not chain.alone_since(4, 10)  # a batch read at 4 missed change 8
    assert not chain.alone_since(7, 10)
    assert chain.alone_since(8, 10)  # read after it: only the import's own since


HEADER = "customer_id,msisdn,name,region_code,segment_id,contact_address,brand\n"


def _records(path: Path, lines: str) -> list[Record]:
    path.write_text(lines)
    return [r for r, _ in read_records(path) if isinstance(r, Record)]


def _row(url: str, customer_id: str) -> dict[str, Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        raw = conn.execute(
            text("SELECT row FROM customer WHERE customer_id = :c"), {"c": customer_id}
        ).scalar_one()
    engine.dispose()
    row: dict[str, Any] = raw if isinstance(raw, dict) else orjson.loads(str(raw))
    return row


def test_a_batch_checks_merges_from_the_oldest_batch_in_flight(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # C1 and C2 are one person; neither has an address yet
    first = tmp_path / "first.csv"
    first.write_text(
        HEADER + "C1,13800000001,王伟,440100,SS3,,全球通\nC2,13900000002,王伟,440100,SS3,,\n"
    )
    assert run_import(pg_url, "customers", first).imported == 2
    # batch 1: C2's record brings an address; batch 2: C1's record (no address column) a brand
    one = _records(tmp_path / "one.csv", HEADER + "C2,13900000002,王伟,440100,SS3,天河路1号,\n")
    two = _records(
        tmp_path / "two.csv",
        "customer_id,msisdn,name,region_code,segment_id,brand\n"
        "C1,13800000001,王伟,440100,SS3,动感地带\n",
    )
    merged = threading.Event()
    calls: list[int] = []

    def write_after_the_merge(driver: Any, staged: Any, **kwargs: Any) -> BatchResult:
        if not calls:  # batch 1 was read before the merge; its writer waits for it to commit
            ready = kwargs["ready"]

            def after_merge() -> None:
                merged.wait(60)
                if ready is not None:
                    ready()

            kwargs["ready"] = after_merge
        calls.append(1)
        return write_staged(driver, staged, **kwargs)

    def batches() -> Iterator[list[Record]]:
        yield one
        # between batch 1's read and batch 2's: C2 is merged into C1. Batch 1 then reads again
        # under the lock and writes C1 (the address); batch 2 read C1 before that write
        merge_customers(pg_url, "C1", "C2")
        merged.set()
        yield two

    monkeypatch.setattr(pipeline_module, "write_staged", write_after_the_merge)
    totals = BatchResult()
    engine = make_engine(pg_url)
    try:
        pipeline_module.import_customers_pg(engine, batches(), Mapping(), totals)
    finally:
        merged.set()
        engine.dispose()
    assert len(calls) == 2
    assert (totals.redirected, totals.rejects) == (1, [])
    attributes = _row(pg_url, "C1")["attributes"]
    # batch 2 read C1 again after batch 1's write: both records are in the kept customer
    assert attributes["contact_address"] == "天河路1号"
    assert attributes["brand"] == "动感地带"
    assert attributes["previous_numbers"] == ["13900000002"]
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT customer_id FROM customer ORDER BY 1")).scalars().all()
    engine.dispose()
    assert ids == ["C1"]
