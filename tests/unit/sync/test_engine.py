"""SyncEngine against the real local store, with the service faked at the HTTP transport."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdesk.domain import Channel, Contact, ResultCode
from agentdesk.protocol import Change
from agentdesk.store import CacheDB
from agentdesk.store.errors import DiskFullError
from agentdesk.store.outbox import get_entry, record_outcome
from agentdesk.store.outbox_sync import counts
from agentdesk.store.search import search
from agentdesk.sync import ApiClient, Offline, ProtocolError, StatusSnapshot, SyncEngine, cachestore
from agentdesk.sync.cachestore import CacheSyncStore
from tests.unit.store.conftest import customer_row


class FakeService:
    """Just enough of push/pull: per-note push statuses, scripted pull pages."""

    def __init__(self) -> None:
        self.seq = 0
        self.pushes: list[list[dict[str, Any]]] = []
        self.statuses: dict[str, str] = {}  # note -> status to answer
        self.pages: list[dict[str, Any]] = []
        self.pull_cursors: list[str] = []
        self.reset_once = False
        self.down = False
        self.bad_results = False
        self.slow_pulls = 0
        self.limits: list[str | None] = []
        self.requested = threading.Condition()
        self.on_push: Callable[[int], None] | None = None  # called with the push's number
        self.down_after_pushes: int | None = None  # pushes answered before the link drops

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("refused")
        if request.url.path == "/v1/sync/push":
            if self.down_after_pushes is not None and len(self.pushes) >= self.down_after_pushes:
                raise httpx.ConnectError("link dropped")
            if self.on_push is not None:
                self.on_push(len(self.pushes) + 1)
            return self._push(json.loads(request.content)["items"])
        with self.requested:
            self.pull_cursors.append(request.url.params.get("cursor", ""))
            self.requested.notify_all()
        self.limits.append(request.url.params.get("limit"))
        if self.slow_pulls:
            self.slow_pulls -= 1
            raise httpx.ReadTimeout("slow page")
        if self.reset_once:
            self.reset_once = False
            self.pull_cursors.append("<409>")
            error = {"code": "reset_required", "message": "too old", "details": {}}
            return httpx.Response(409, json={"error": error})
        page = self.pages.pop(0) if self.pages else {"changes": [], "cursor": "c-end"}
        return httpx.Response(200, json={"up_to_date": not self.pages} | page)

    def _push(self, items: list[dict[str, Any]]) -> httpx.Response:
        self.pushes.append(items)
        results = []
        for item in items:
            status = self.statuses.get(item["payload"]["note"], "applied")
            if status == "retry":
                error = {"code": "busy", "retry_after_ms": 50}
                results.append({"id": item["id"], "status": "retry", "error": error})
                break
            self.seq += 1
            results.append({"id": item["id"], "status": status, "server_seq": self.seq})
        if self.bad_results:
            results = list(reversed(results))
        return httpx.Response(200, json={"results": results, "write_checkpoint": self.seq})


@pytest.fixture
def db(tmp_path: Path) -> Iterator[CacheDB]:
    db = CacheDB.open(tmp_path / "cache.db")
    yield db
    db.close()


@pytest.fixture
def service() -> FakeService:
    return FakeService()


def _engine(db: CacheDB, service: FakeService) -> SyncEngine:
    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(service))
    return SyncEngine(CacheSyncStore(db, crash_hook=None), api, "dev-1")


def _record(db: CacheDB, note: str) -> str:
    started = datetime.now(UTC) - timedelta(hours=1)
    contact = Contact(contact_id="", customer_id="C00000001", channel=Channel.INBOUND_CALL,
                      started_at=started, ended_at=started + timedelta(minutes=2),
                      result_code=ResultCode.REACHED_NO_OFFER, staff_id="u", note=note)  # fmt: skip
    with db.writer() as conn:
        return record_outcome(conn, contact).id


def _state(db: CacheDB, item_id: str) -> str:
    with db.reader() as conn:
        entry = get_entry(conn, item_id)
    assert entry is not None
    return entry.state


def test_push_stops_at_the_first_retry_so_nothing_overtakes_it(
    db: CacheDB, service: FakeService
) -> None:
    ids = [_record(db, note) for note in ("a", "b", "c")]
    service.statuses["b"] = "retry"
    report = _engine(db, service).run_once()
    assert report.retry
    assert report.retry_after == pytest.approx(0.05)
    assert len(service.pushes) == 1
    assert service.pull_cursors == []  # no pull while the push is unfinished
    assert [_state(db, i) for i in ids] == ["inflight", "pending", "pending"]


def test_big_outboxes_go_in_batches_of_500_in_device_order(
    db: CacheDB, service: FakeService
) -> None:
    for n in range(1_100):
        _record(db, f"n{n}")
    report = _engine(db, service).run_once()
    assert report.ok
    assert [len(p) for p in service.pushes] == [500, 500, 100]
    seqs = [item["seq"] for push in service.pushes for item in push]
    assert seqs == sorted(seqs)
    with db.reader() as conn:
        assert counts(conn).waiting == 0


def test_pushed_items_carry_the_recorded_payload_in_the_pinned_shape(
    db: CacheDB, service: FakeService
) -> None:
    item = _record(db, "shape")
    assert _engine(db, service).run_once().ok
    with db.reader() as conn:
        entry = get_entry(conn, item)
    assert entry is not None
    [[sent]] = service.pushes
    assert sent == {
        "id": item, "seq": entry.client_seq, "kind": "contact", "schema": 1,
        "payload": entry.payload, "claim_id": None, "fence": None,
    }  # fmt: skip


def test_a_retry_in_a_big_outbox_sends_nothing_after_it_and_leaves_the_rest_pending(
    db: CacheDB, service: FakeService
) -> None:
    ids = [_record(db, f"n{n}") for n in range(1_100)]
    service.statuses["n10"] = "retry"
    report = _engine(db, service).run_once()
    assert report.retry
    assert len(service.pushes) == 1
    states = [_state(db, i) for i in ids]
    assert states[:10] == ["inflight"] * 10  # applied, waiting for the pull
    assert set(states[10:]) == {"pending"}  # the next batch, taken meanwhile, was not sent


def test_a_link_cut_mid_outbox_keeps_the_answered_batch_and_resends_the_rest_in_order(
    db: CacheDB, service: FakeService
) -> None:
    ids = [_record(db, f"n{n}") for n in range(1_100)]
    service.down_after_pushes = 1
    engine = _engine(db, service)
    report = engine.run_once()
    assert isinstance(report.error, Offline)
    states = [_state(db, i) for i in ids]
    assert set(states[:500]) == {"inflight"}
    assert set(states[500:]) == {"pending"}
    with db.reader() as conn:
        assert counts(conn).waiting == 600
    service.down_after_pushes = None
    assert engine.run_once().ok
    assert [i["id"] for p in service.pushes[1:] for i in p] == ids[500:]


def test_a_cancel_during_a_push_stops_before_the_next_batch_and_keeps_it_pending(
    db: CacheDB, service: FakeService
) -> None:
    ids = [_record(db, f"n{n}") for n in range(1_100)]
    cancel = threading.Event()
    service.on_push = lambda _n: cancel.set()
    report = _engine(db, service).run_once(cancel)
    assert report.cancelled
    assert len(service.pushes) == 1
    states = [_state(db, i) for i in ids]
    assert set(states[:500]) == {"inflight"}
    assert set(states[500:]) == {"pending"}


def test_conflicts_and_rejections_are_counted_and_shown(db: CacheDB, service: FakeService) -> None:
    _record(db, "ok")
    _record(db, "clash")
    _record(db, "bad")
    service.statuses |= {"clash": "applied_with_conflict", "bad": "rejected"}
    engine = _engine(db, service)
    seen: list[StatusSnapshot] = []
    engine.status.subscribe(seen.append)
    report = engine.run_once()
    assert (report.acked, report.conflicts, report.rejected) == (1, 1, 1)
    assert seen[-1].conflicts == 1
    assert seen[-1].rejected == 1
    assert seen[-1].state == "online"
    assert seen[-1].last_success is not None


def test_offline_keeps_everything_and_the_next_cycle_resends_the_same_ids(
    db: CacheDB, service: FakeService
) -> None:
    item = _record(db, "x")
    service.down = True
    engine = _engine(db, service)
    report = engine.run_once()
    assert isinstance(report.error, Offline)
    assert engine.status.snapshot.state == "offline"
    assert engine.status.snapshot.waiting == 1
    service.down = False
    assert engine.run_once().ok
    assert [i["id"] for p in service.pushes for i in p] == [item]


def test_reset_required_rebuilds_the_cache_and_never_touches_the_outbox(
    db: CacheDB, service: FakeService
) -> None:
    clash = _record(db, "clash")
    service.statuses["clash"] = "applied_with_conflict"
    engine = _engine(db, service)
    assert engine.run_once().ok
    item = _record(db, "new")
    service.reset_once = True
    report = engine.run_once()
    assert report.reset
    assert report.ok
    assert report.acked == 1
    after_409 = service.pull_cursors[service.pull_cursors.index("<409>") + 1 :]
    assert after_409[0] == ""  # the re-snapshot starts from scratch
    assert _state(db, item) in ("inflight", "acked")
    assert _state(db, clash) == "conflict"


def test_results_that_do_not_match_the_batch_are_a_bug(db: CacheDB, service: FakeService) -> None:
    _record(db, "a")
    _record(db, "b")
    service.bad_results = True
    report = _engine(db, service).run_once()
    assert isinstance(report.error, ProtocolError)


def test_snapshot_progress_reaches_the_status(db: CacheDB, service: FakeService) -> None:
    service.pages = [
        {"changes": [], "cursor": "s1", "progress": {"done": 10, "total": 20}},
        {"changes": [], "cursor": "s2", "progress": {"done": 20, "total": 20}},
        {"changes": [], "cursor": "feed"},
    ]
    engine = _engine(db, service)
    seen: list[StatusSnapshot] = []
    engine.status.subscribe(seen.append)
    report = engine.run_once()
    assert report.pages == 3
    assert (10, 20) in [(s.snapshot_done, s.snapshot_total) for s in seen]
    assert engine.status.snapshot.snapshot_total == 0
    assert service.pull_cursors == ["", "s1", "s2"]


def test_a_page_that_times_out_is_asked_for_in_smaller_pages(
    db: CacheDB, service: FakeService
) -> None:
    service.slow_pulls = 2
    engine = _engine(db, service)
    first = engine.run_once()
    assert isinstance(first.error, Offline)
    assert engine.run_once().error is not None
    assert engine.run_once().ok
    assert service.limits[:3] == [None, "5000", "2500"]


class _Died(Exception):
    """Stands in for the process dying inside a page's transaction."""


def _customer_page(cursor: str, customer_id: str, done: int) -> dict[str, Any]:
    row = {"attributes": {"customer_id": customer_id, "msisdn": "13800138000", "name": "张三"}}
    change = {"seq": done, "entity": "customer", "op": "put", "id": customer_id, "row": row}
    return {"changes": [change], "cursor": cursor, "progress": {"done": done, "total": 3}}


def _snapshot_pages() -> list[dict[str, Any]]:
    return [
        _customer_page("s1", "C00000001", 1),
        _customer_page("s2", "C00000002", 2),
        _customer_page("s3", "C00000003", 3),
        {"changes": [], "cursor": "feed"},
    ]


def _customers(db: CacheDB) -> list[str]:
    with db.reader() as conn:
        return [r[0] for r in conn.execute("SELECT customer_id FROM customer ORDER BY 1")]


def _die_at_page(db: CacheDB, service: FakeService, page: int) -> CacheSyncStore:
    """Run a sync cycle that is killed while applying snapshot page ``page``; returns its store.

    Each page before it is held until the one after it has arrived (the next is asked for),
    as on a link faster than the writer: then the engine does not commit the group to wait."""
    hits: list[str] = []

    def die_at_the_page(point: str) -> None:
        hits.append(point)
        if len(hits) < page:
            ahead = f"s{len(hits) + 1}"
            with service.requested:
                assert service.requested.wait_for(lambda: ahead in service.pull_cursors, 60)
        if len(hits) == page:
            raise _Died

    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(service))
    store = CacheSyncStore(db, crash_hook=die_at_the_page)
    with pytest.raises(_Died):
        SyncEngine(store, api, "dev-1").run_once()
    return store


def test_a_crash_mid_snapshot_keeps_the_last_applied_cursor_not_the_page_fetched_ahead(
    db: CacheDB, service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cachestore, "SNAPSHOT_GROUP_PAGES", 1)  # every page is its own commit
    service.pages = _snapshot_pages()
    store = _die_at_page(db, service, 2)
    assert service.pull_cursors[:3] == ["", "s1", "s2"]  # page 3 was already downloading
    assert store.sync_cursor() == "s1"
    assert _customers(db) == ["C00000001"]
    asked = len(service.pull_cursors)
    service.pages = _snapshot_pages()[1:]  # the service answers again
    report = _engine(db, service).run_once()
    assert report.ok
    assert service.pull_cursors[asked] == "s1"  # resumed after the last applied page
    assert _customers(db) == ["C00000001", "C00000002", "C00000003"]


def test_a_crash_inside_a_group_of_snapshot_pages_resumes_from_the_last_commit(
    db: CacheDB, service: FakeService
) -> None:
    service.pages = _snapshot_pages()
    store = _die_at_page(db, service, 3)
    # the first page is committed on its own (it brings the rules, campaigns and offers the
    # customer view needs while the cache fills); pages 2 and 3 shared a transaction that never
    # committed: nothing of them is kept, and the cursor is that of page 1, not of any page
    # applied or fetched after it
    assert store.sync_cursor() == "s1"
    assert _customers(db) == ["C00000001"]
    asked = len(service.pull_cursors)
    service.pages = _snapshot_pages()[1:]
    report = _engine(db, service).run_once()
    assert report.ok
    assert service.pull_cursors[asked] == "s1"  # the snapshot resumes from the last commit
    assert _customers(db) == ["C00000001", "C00000002", "C00000003"]


def test_a_cancelled_snapshot_keeps_the_pages_it_applied(db: CacheDB, service: FakeService) -> None:
    service.pages = _snapshot_pages()
    cancel = threading.Event()
    hits: list[str] = []

    def cancel_on_second_page(point: str) -> None:
        hits.append(point)
        if len(hits) == 2:
            cancel.set()

    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(service))
    store = CacheSyncStore(db, crash_hook=cancel_on_second_page)
    report = SyncEngine(store, api, "dev-1").run_once(cancel)
    assert report.cancelled
    assert _customers(db) == ["C00000001", "C00000002"]  # committed: a reader sees them
    with db.reader() as conn:
        assert conn.execute("SELECT cursor FROM sync_state").fetchone() == ("s2",)


def _one_customer_page(i: int, person: tuple[str, str, str, str], total: int) -> dict[str, Any]:
    cid, name, msisdn, id_number = person
    row = customer_row(cid, name, msisdn, id_number=id_number)
    change = {"seq": i + 1, "entity": "customer", "op": "put", "id": cid, "row": row}
    return {"changes": [change], "cursor": f"s{i + 1}", "progress": {"done": i + 1, "total": total}}


def test_after_a_first_sync_in_groups_search_finds_phone_id_and_one_chinese_character(
    db: CacheDB, service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cachestore, "SNAPSHOT_GROUP_PAGES", 2)  # groups end mid-snapshot too
    people = [("C00000001", "张三", "13800138000", "440103199001011234"),
              ("C00000002", "李四", "13900139000", "44010319850505123X"),
              ("C00000003", "王五", "13700137000", "110101197001012345")]  # fmt: skip
    service.pages = [_one_customer_page(i, person, len(people)) for i, person in enumerate(people)]
    service.pages.append({"changes": [], "cursor": "feed"})
    report = _engine(db, service).run_once()
    assert report.ok
    with db.reader() as conn:
        assert [h.customer_id for h in search(conn, "1390013")] == ["C00000002"]
        assert [h.customer_id for h in search(conn, "44010319850505123X")] == ["C00000002"]
        assert [h.customer_id for h in search(conn, "2345")] == ["C00000003"]
        assert [h.customer_id for h in search(conn, "王")] == ["C00000003"]
        assert [h.customer_id for h in search(conn, "C00000001")] == ["C00000001"]


class _SlowLinkService(FakeService):
    """Holds back the pull of one cursor until released: a page still on its way."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.asked = threading.Event()
        self.release = threading.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == self.held:
            self.asked.set()
            self.release.wait(60)
        return super().__call__(request)


@pytest.mark.parametrize("cancelled", [False, True], ids=["waiting", "cancelled"])
def test_an_outcome_saved_while_a_snapshot_page_is_still_downloading_is_kept(
    db: CacheDB, cancelled: bool
) -> None:
    service = _SlowLinkService(held="s1")  # page 2 is asked for ahead while page 1 is applied
    service.pages = _snapshot_pages()
    cancel = threading.Event()
    in_page = threading.Event()

    def inside_first_page(point: str) -> None:
        in_page.set()  # the group's transaction is open now
        if cancelled:
            cancel.set()

    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(service))
    engine = SyncEngine(CacheSyncStore(db, crash_hook=inside_first_page), api, "dev-1")
    reports: list[Any] = []
    worker = threading.Thread(target=lambda: reports.append(engine.run_once(cancel)))
    worker.start()
    try:
        assert in_page.wait(60)
        assert service.asked.wait(60)
        item = _record(db, "saved while the snapshot waits on the network")  # no "busy"
    finally:
        service.release.set()
        worker.join(60)
    assert _state(db, item) == "pending"
    assert reports[0].cancelled is cancelled
    expected = ["C00000001"] if cancelled else ["C00000001", "C00000002", "C00000003"]
    assert _customers(db) == expected


class _AnswersNotRecorded(CacheSyncStore):
    """A cache that cannot record the first push answer (a disk that just filled up)."""

    def apply_push_results(self, results: Any) -> None:
        raise DiskFullError("disk full")


def test_an_answer_the_cache_cannot_record_sends_nothing_more_and_puts_every_item_back(
    db: CacheDB, service: FakeService
) -> None:
    ids = [_record(db, str(i)) for i in range(1_100)]  # three batches: 500, 500, 100
    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(service))
    engine = SyncEngine(_AnswersNotRecorded(db, crash_hook=None), api, "dev-1")
    with pytest.raises(DiskFullError):
        engine.run_once()
    assert len(service.pushes) <= 2  # never a batch after an answer that was not recorded
    assert {_state(db, i) for i in ids} == {"pending"}  # none left "in flight" till next cycle
    report = _engine(db, service).run_once()  # the disk has room again
    assert report.ok
    with db.reader() as conn:
        assert counts(conn).waiting == 0


class _PagesNotStored(CacheSyncStore):
    """A cache whose disk is full: neither a page nor the closing commit can be written."""

    def apply_changes(self, *args: Any, **kwargs: Any) -> None:
        raise DiskFullError("disk full")

    def flush(self) -> None:
        raise DiskFullError("disk full")


def test_a_pull_the_cache_cannot_store_leaves_no_download_thread_behind(
    db: CacheDB, service: FakeService
) -> None:
    api = ApiClient("http://svc", token="t", transport=httpx.MockTransport(service))
    engine = SyncEngine(_PagesNotStored(db, crash_hook=None), api, "dev-1")
    for _ in range(3):  # the scheduler tries again every cycle while the disk stays full
        service.pages = _snapshot_pages()
        with pytest.raises(DiskFullError):
            engine.run_once()
    assert [t.name for t in threading.enumerate() if t.name.startswith("sync-pull")] == []


def test_the_snapshot_after_a_reset_commits_its_first_page_at_once(db: CacheDB) -> None:
    """A reset mid-snapshot starts a new snapshot: its first page (rules, campaigns, offers in
    real life) is readable at once, as in a first sync, not held in a group."""
    store = CacheSyncStore(db, crash_hook=None)

    def page(cid: str) -> list[Change]:
        row = customer_row(cid, "王小明", f"1380000{cid[-4:]}")
        return [Change(seq=int(cid[-4:]), entity="customer", op="put", id=cid, row=row)]

    store.apply_changes(page("C00000001"), "s1", up_to_date=False, snapshot=True)
    store.apply_changes(page("C00000002"), "s2", up_to_date=False, snapshot=True)  # a group
    store.reset_cache()
    store.apply_changes(page("C00000003"), "t1", up_to_date=False, snapshot=True)
    assert _customers(db) == ["C00000003"]  # another connection sees it: committed
    store.flush()
