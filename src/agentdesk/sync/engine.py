"""The push-then-pull sync cycle (docs/sync.md): pure Python, no Qt, one call per cycle.

1. Push the outbox in ``client_seq`` order, ≤ 500 items / 256 KB per request; items are marked in
   flight first and recorded per item after the answer; the push stops at the first ``retry``.
2. Pull until the feed is ``up_to_date`` and this device's write checkpoint has been seen; every
   page is applied together with its cursor. A delta page is one store transaction, so a crash
   re-downloads at most that page; snapshot pages are committed in groups (docs/sync.md), so a
   crash mid-snapshot re-downloads at most one group (it resumes from the last committed
   cursor). Pages are downloaded ahead on a thread of their own (:class:`~agentdesk.sync.
   prefetch.PagePrefetch`: the next request leaves as soon as a page has arrived) while the
   engine's thread prepares and applies the ones before; nothing is applied out of
   order and the stored cursor is always that of the last applied page. The engine never waits
   on the network with a group open: it commits the group first (:meth:`SyncStore.flush`)
   whenever the next page is not downloaded yet, and before it waits for a download it drops
   (cancel, error), so an outcome saved meanwhile never finds the cache busy.
3. On ``reset_required``: push the outbox first, then drop the cache and re-snapshot. The outbox
   is never touched by a reset.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from agentdesk.protocol import PushResponse, PushResult
from agentdesk.protocol.raw import RawPullPage, RawPushItem
from agentdesk.store.apply import PreparedChanges, prepare_changes
from agentdesk.sync.client import ApiClient
from agentdesk.sync.crashpoints import CrashHook, crash_hook_from_env
from agentdesk.sync.errors import Offline, ProtocolError, ResetRequired, SyncError
from agentdesk.sync.ports import SyncStore
from agentdesk.sync.prefetch import PagePrefetch
from agentdesk.sync.report import SyncReport
from agentdesk.sync.status import SyncStatus

__all__ = ["MAX_PUSH_BYTES", "SyncEngine"]

MAX_PUSH_BYTES = 256 * 1024
DEFAULT_PULL_LIMIT = 10_000
MIN_PULL_LIMIT = 250
_EXTRA_PULLS = 2  # up-to-date pages to wait for the write checkpoint before giving up


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SyncEngine:
    """Runs sync cycles between one local store and the service.

    Args:
        store: the local store (outbox, cache, cursor).
        api: the API client (already logged in).
        device_id: this installation's id, sent with every push.
        now: wall clock for ``last_success`` (display only, never for correctness).
        status: the observable status to update (a new one by default).
        crash_hook: test-only crash points; read from the environment by default.
        max_items: items per push request.
        max_bytes: payload bytes per push request.
        pull_limit: changes per pull page (None: the service's default); halved after a page
            timed out, down to 250.
    """

    def __init__(
        self,
        store: SyncStore,
        api: ApiClient,
        device_id: str,
        *,
        now: Callable[[], datetime] = _utc_now,
        status: SyncStatus | None = None,
        crash_hook: CrashHook | None = None,
        max_items: int = 500,
        max_bytes: int = MAX_PUSH_BYTES,
        pull_limit: int | None = None,
    ) -> None:
        self.store = store
        self.api = api
        self.device_id = device_id
        self.status = status or SyncStatus()
        self._now = now
        self._crash = crash_hook if crash_hook is not None else crash_hook_from_env()
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._pull_limit = pull_limit
        self._lock = threading.Lock()

    def run_once(self, cancel: threading.Event | None = None) -> SyncReport:
        """Run one push-then-pull cycle; never raises for network or service conditions.

        Args:
            cancel: set it to stop the cycle after the current request.

        Returns:
            What the cycle did; ``report.error`` holds the error that ended it early.
        """
        report = SyncReport()
        with self._lock:
            self.status.update(state="syncing")
            try:
                self.store.prepare()
                self._cycle(report, cancel)
            except SyncError as exc:
                report.error = exc
            finally:
                self._publish(report)
        return report

    # -- the cycle ---------------------------------------------------------------------------

    def _cycle(self, report: SyncReport, cancel: threading.Event | None) -> None:
        self._push_all(report, cancel)
        if report.retry or report.cancelled:
            return
        try:
            self._pull(report, cancel)
        except ResetRequired:
            report.reset = True
            self._push_all(report, cancel)
            self.store.reset_cache()
            self._pull(report, cancel)

    def _push_all(self, report: SyncReport, cancel: threading.Event | None) -> None:
        """Push the outbox batch by batch, in device order; stop at the first ``retry``.

        The local work overlaps the network: while a batch is on its way, a worker thread
        records the answer to the batch before it and takes the next one (marked in flight).
        A batch is still sent only after the answer to the one before it, never after a
        ``retry``; whatever was taken but not sent or not answered goes back to pending.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-push") as pool:
            recorded: Future[None] | None = None  # the previous answer, being recorded
            requeue = True
            try:
                batch = self._take()
                while batch:
                    if cancel is not None and cancel.is_set():
                        report.cancelled = True
                        return
                    self._hit("before_push")
                    ahead = pool.submit(self._take)  # runs after the previous answer's record
                    response = self.api.push(self.device_id, list(batch))
                    report.pushed += len(batch)
                    self._hit("after_push_response")
                    _check_results(batch, response)
                    if recorded is not None:
                        recorded.result()  # recorded before ``ahead`` was taken
                    recorded = pool.submit(self._record, response.results)
                    if self._tally(report, response):
                        return  # the tail after a retry was never processed
                    batch = ahead.result()
                requeue = False
            finally:
                try:
                    if recorded is not None:
                        recorded.result()
                finally:  # taken or sent, never answered or recorded: back to pending at once
                    if requeue:  # (a cut, a cancel, an answer the cache could not record)
                        pool.shutdown(wait=True, cancel_futures=True)
                        self.store.requeue_unanswered()

    def _take(self) -> Sequence[RawPushItem]:
        return self.store.take_batch(self._max_items, self._max_bytes)

    def _record(self, results: Sequence[PushResult]) -> None:
        self.store.apply_push_results(results)
        self._hit("after_local_ack")

    def _tally(self, report: SyncReport, response: PushResponse) -> bool:
        """Count the results; True when the push must stop (a ``retry``)."""
        report.write_checkpoint = max(report.write_checkpoint, response.write_checkpoint)
        for result in response.results:
            if result.status in ("applied", "duplicate"):
                report.acked += 1
            elif result.status == "applied_with_conflict":
                report.conflicts += 1
            elif result.status == "rejected":
                report.rejected += 1
            else:
                report.retry = True
                wait_ms = result.error.retry_after_ms if result.error else None
                report.retry_after = wait_ms / 1000 if wait_ms is not None else None
                return True
        return False

    def _pull(self, report: SyncReport, cancel: threading.Event | None) -> None:
        cursor = self.store.sync_cursor()
        ahead: list[PagePrefetch] = []
        try:
            self._pull_loop(report, cancel, cursor, ahead)
        finally:  # however the pull ends, the open group is committed, then the download
            try:  # threads are stopped (closing waits for a page still downloading) even when
                self.store.flush()  # the commit fails too (a full disk)
            finally:
                for prefetch in ahead:
                    prefetch.close()

    def _pull_loop(
        self,
        report: SyncReport,
        cancel: threading.Event | None,
        cursor: str,
        ahead: list[PagePrefetch],
    ) -> None:
        seen, extra = 0, 0
        while True:
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                return  # pages downloading ahead are dropped (closing waits for them)
            if not ahead:  # the pages after ``cursor`` download on a thread of their own
                ahead.append(PagePrefetch(cursor, self._pull_page))
            if not ahead[0].arrived():  # never keep the write lock while waiting on the network
                self.store.flush()
            page = ahead[0].next()
            if page.up_to_date:  # its download thread has stopped: no page after this one
                ahead.pop().close()
            prepared = prepare_changes(page.changes)
            self._apply_page(page, prepared)
            report.pulled += len(page.changes)
            report.pages += 1
            seen = max(seen, prepared.page_max)
            cursor = page.cursor
            if page.up_to_date:
                if seen >= report.write_checkpoint or extra >= _EXTRA_PULLS:
                    return
                extra += 1

    def _pull_page(self, cursor: str) -> RawPullPage:
        """One page; a read timeout halves the page size for the next try (a slow link or a
        busy service must not make the same too-big page time out forever)."""
        try:
            return self.api.pull(cursor, limit=self._pull_limit)
        except Offline as exc:
            if exc.details.get("timeout"):
                current = self._pull_limit or DEFAULT_PULL_LIMIT
                self._pull_limit = max(MIN_PULL_LIMIT, current // 2)
            raise

    def _apply_page(self, page: RawPullPage, prepared: PreparedChanges) -> None:
        snapshot = page.progress is not None and not page.up_to_date
        self.store.apply_changes(
            prepared, page.cursor, up_to_date=page.up_to_date, snapshot=snapshot
        )
        if snapshot and page.progress:
            done, total = page.progress.get("done", 0), page.progress.get("total", 0)
            self.status.update(snapshot_done=done, snapshot_total=total)
        elif page.up_to_date:
            self.status.update(snapshot_done=0, snapshot_total=0)

    # -- helpers -----------------------------------------------------------------------------

    def _hit(self, point: str) -> None:
        if self._crash is not None:
            self._crash(point)

    def _publish(self, report: SyncReport) -> None:
        fields: dict[str, object] = {}
        try:
            counts = self.store.counts()
        except Exception:  # the store's own error is already on its way to the caller
            counts = None
        if counts is not None:
            fields |= {
                "waiting": int(getattr(counts, "waiting", 0)),
                "conflicts": int(getattr(counts, "conflicts", 0)),
                "rejected": int(getattr(counts, "rejected", 0)),
            }
        error = report.error
        if error is None:
            fields |= {"state": "online", "last_error": None}
            if report.ok:
                fields["last_success"] = self._now()
        elif isinstance(error, Offline):
            fields |= {"state": "offline", "last_error": error.code}
        else:
            fields |= {"state": "online", "last_error": error.code}
        self.status.update(**fields)


def _check_results(batch: Sequence[RawPushItem], response: PushResponse) -> None:
    """The results must answer a non-empty prefix of the batch, in request order."""
    sent = [item.id for item in batch]
    got = [result.id for result in response.results]
    if not got or got != sent[: len(got)]:
        raise ProtocolError(f"push results {got[:3]}… do not match the batch {sent[:3]}…")
    if len(got) < len(sent) and response.results[-1].status != "retry":
        raise ProtocolError("push answered part of the batch without a retry")
