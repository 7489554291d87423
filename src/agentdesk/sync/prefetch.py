"""Pull pages ahead of the writer: one thread downloads, another prepares (docs/sync.md).

A first sync is a chain of pages, each page's cursor naming the next one. Three kinds of work
make up a page: the service building it (another process), the client preparing its upsert
parameters (Python, :func:`agentdesk.store.apply.prepare_changes`) and the writer executing them
(SQLite). :class:`PagePrefetch` keeps all three busy at once: its download thread asks for the
next page as soon as the previous one has arrived, its prepare thread turns downloaded pages into
parameters, and the engine's thread applies prepared pages in order. Each hand-over holds at most
one page, so no more than a few pages are in memory.

Nothing is applied here and no cursor is stored: pages come out of :meth:`PagePrefetch.next` in
feed order, and a download error comes out in its place (after every page before it), so the
engine applies and commits exactly as it would page by page. After an ``up_to_date`` page, an
error, or :meth:`PagePrefetch.close`, no further page is asked for.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from agentdesk.protocol import Change
from agentdesk.protocol.raw import RawChange, RawPullPage
from agentdesk.store.apply import PreparedChanges

__all__ = ["PagePrefetch"]

T = TypeVar("T")
Prepared = tuple[RawPullPage, PreparedChanges]


class _Closed(Exception):
    """The hand-over was closed while a thread waited on it."""


class _Handover(Generic[T]):
    """A one-slot hand-over between two threads that :meth:`close` ends for both sides."""

    def __init__(self) -> None:
        self._items: deque[T | BaseException] = deque()
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item: T | BaseException) -> None:
        with self._cond:
            while self._items and not self._closed:
                self._cond.wait()
            if self._closed:
                raise _Closed
            self._items.append(item)
            self._cond.notify_all()

    def get(self) -> T:
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            if not self._items:
                raise _Closed
            item = self._items.popleft()
            self._cond.notify_all()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class PagePrefetch:
    """Downloads and prepares the pages that follow ``cursor`` ahead of the caller.

    Args:
        cursor: the cursor of the first page to download.
        fetch: downloads one page (runs on the download thread).
        prepare: builds a page's upsert parameters (runs on the prepare thread).
    """

    def __init__(
        self,
        cursor: str,
        fetch: Callable[[str], RawPullPage],
        prepare: Callable[[Sequence[Change | RawChange]], PreparedChanges],
    ) -> None:
        self._fetch = fetch
        self._prepare = prepare
        self._downloaded: _Handover[RawPullPage] = _Handover()
        self._prepared: _Handover[Prepared] = _Handover()
        self._arrived = 0  # pages (or errors) the download thread has received
        self._taken = 0  # pages handed out by next()
        self._threads = [
            threading.Thread(target=self._download, args=(cursor,), name="sync-pull", daemon=True),
            threading.Thread(target=self._prepare_all, name="sync-prepare", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def next(self) -> Prepared:
        """The next page and its parameters, in feed order (waits for them).

        Raises:
            Exception: the download or the preparation of this page failed.
        """
        self._taken += 1
        try:
            return self._prepared.get()
        except _Closed:
            raise RuntimeError("the page prefetch is closed") from None

    def arrived(self) -> bool:
        """Whether the page :meth:`next` answers next has been downloaded (it may still be
        being prepared, which takes milliseconds, not a round trip)."""
        return self._arrived > self._taken

    def close(self) -> None:
        """Ask for no further page and wait for both threads (a download in flight finishes
        first; what it brings is dropped)."""
        self._downloaded.close()
        self._prepared.close()
        for thread in self._threads:
            thread.join()

    def _download(self, cursor: str) -> None:
        try:
            while True:
                try:
                    page = self._fetch(cursor)
                except Exception as exc:  # handed over in the page's place
                    self._arrived += 1
                    self._downloaded.put(exc)
                    return
                self._arrived += 1
                self._downloaded.put(page)
                if page.up_to_date:
                    return
                cursor = page.cursor
        except _Closed:
            return

    def _prepare_all(self) -> None:
        try:
            while True:
                try:
                    page = self._downloaded.get()
                    item: Prepared | BaseException = (page, self._prepare(page.changes))
                except _Closed:
                    raise
                except Exception as exc:
                    self._prepared.put(exc)
                    return
                self._prepared.put(item)
                if page.up_to_date:
                    return
        except _Closed:
            return
