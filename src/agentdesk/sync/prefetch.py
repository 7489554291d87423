"""Download pull pages ahead of the writer, on a thread of their own (docs/sync.md).

A first sync is a chain of pages, each page's cursor naming the next one. :class:`PagePrefetch`
asks for the next page as soon as the previous one has arrived, so the service builds page
*n + 1* (another process, usually another machine) while the engine's thread prepares and
applies page *n*. The hand-over holds one page: at most two pages wait in memory besides the one
being applied.

The pages are prepared (:func:`agentdesk.store.apply.prepare_changes`) on the engine's thread,
not on a third one: both are Python, and a Python thread running beside the writer's
``executemany`` took the GIL back after every row the writer stepped, so the two ran one after
the other anyway, with the switching on top (measured on the 100 k first sync: the same wall
time, about 10 % more CPU).

Nothing is applied here and no cursor is stored: pages come out of :meth:`PagePrefetch.next` in
feed order, and a download error comes out in its place (after every page before it), so the
engine applies and commits exactly as it would page by page. After an ``up_to_date`` page, an
error, or :meth:`PagePrefetch.close`, no further page is asked for.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from agentdesk.protocol.raw import RawPullPage

__all__ = ["PagePrefetch"]

T = TypeVar("T")


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
    """Downloads the pages that follow ``cursor`` ahead of the caller.

    Args:
        cursor: the cursor of the first page to download.
        fetch: downloads one page (runs on the download thread).
    """

    def __init__(self, cursor: str, fetch: Callable[[str], RawPullPage]) -> None:
        self._fetch = fetch
        self._downloaded: _Handover[RawPullPage] = _Handover()
        self._arrived = 0  # pages (or errors) the download thread has received
        self._taken = 0  # pages handed out by next()
        self._thread = threading.Thread(
            target=self._download, args=(cursor,), name="sync-pull", daemon=True
        )
        self._thread.start()

    def next(self) -> RawPullPage:
        """The next page, in feed order (waits for it).

        Raises:
            Exception: the download of this page failed.
        """
        self._taken += 1
        try:
            return self._downloaded.get()
        except _Closed:
            raise RuntimeError("the page prefetch is closed") from None

    def arrived(self) -> bool:
        """Whether the page :meth:`next` answers next has been downloaded."""
        return self._arrived > self._taken

    def close(self) -> None:
        """Ask for no further page and wait for the thread (a download in flight finishes
        first; what it brings is dropped)."""
        self._downloaded.close()
        self._thread.join()

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
