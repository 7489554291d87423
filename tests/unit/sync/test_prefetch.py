"""Pages downloaded ahead come out in feed order, a failed download in its page's place."""

from __future__ import annotations

import threading

import pytest

from agentdesk.protocol.raw import RawPullPage
from agentdesk.sync import Offline
from agentdesk.sync.prefetch import PagePrefetch


def _page(cursor: str, *, last: bool = False) -> RawPullPage:
    return RawPullPage(changes=[], cursor=cursor, up_to_date=last)


class Feed:
    """Pages by the cursor that asks for them; a cursor may fail or be held back."""

    def __init__(self, pages: dict[str, RawPullPage | Exception]) -> None:
        self.pages = pages
        self.asked: list[str] = []
        self.held: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self, cursor: str) -> RawPullPage:
        self.asked.append(cursor)
        if cursor == self.held:
            self.holding.set()
            self.release.wait(60)
        answer = self.pages[cursor]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_pages_come_in_order_and_nothing_is_asked_for_after_the_last() -> None:
    feed = Feed({"": _page("a"), "a": _page("b"), "b": _page("end", last=True)})
    prefetch = PagePrefetch("", feed)
    try:
        cursors = [prefetch.next().cursor for _ in range(3)]
    finally:
        prefetch.close()
    assert cursors == ["a", "b", "end"]
    assert feed.asked == ["", "a", "b"]


def test_a_failed_download_comes_after_the_pages_before_it_and_ends_the_downloads() -> None:
    feed = Feed({"": _page("a"), "a": Offline("link down"), "b": _page("never")})
    prefetch = PagePrefetch("", feed)
    try:
        assert prefetch.next().cursor == "a"
        with pytest.raises(Offline):
            prefetch.next()
    finally:
        prefetch.close()
    assert feed.asked == ["", "a"]


def test_closing_while_a_page_is_on_its_way_asks_for_nothing_more() -> None:
    feed = Feed({"": _page("a"), "a": _page("b"), "b": _page("c")})
    feed.held = "a"
    prefetch = PagePrefetch("", feed)
    assert prefetch.next().cursor == "a"
    assert feed.holding.wait(60)
    assert not prefetch.arrived()  # the engine commits its group before it waits for it
    closer = threading.Thread(target=prefetch.close)
    closer.start()
    feed.release.set()
    closer.join(60)
    assert not closer.is_alive()
    assert feed.asked == ["", "a"]
