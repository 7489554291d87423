"""A benchmark run keeps each big copy on disk only while a row still needs it."""

from __future__ import annotations

import contextlib
from pathlib import Path

from rich.console import Console

from bench.context import Ctx
from bench.disk import DiskWatch, folder_bytes
from bench.plan import NEEDS, SCALING, releases, resource_key, row_of, run_order

FULL = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12", "E1"]


def _held_during_each(order: list[str]) -> list[set[str]]:
    held: set[str] = set()
    out = []
    for step, gone in zip(order, releases(order), strict=True):
        held |= NEEDS.get(step, frozenset())
        out.append(set(held))
        held -= set(gone)
    assert held == set()  # nothing is left over after the last row
    return out


def test_a_full_run_never_holds_postgresql_beside_another_big_copy() -> None:
    order = run_order([*FULL, SCALING])
    assert {row_of(step) for step in order} == {*FULL, SCALING}
    during = _held_during_each(order)
    assert all(held == {"pg"} for held in during if "pg" in held)
    assert max(len(held) for held in during) == 3  # client, central and P8's cache at most


def test_each_copy_goes_right_after_the_last_row_that_needs_it() -> None:
    order = run_order([*FULL, SCALING])
    gone = dict(zip(order, releases(order), strict=True))
    assert gone["P9"] == ["client", "scope"]
    assert gone["P12.sqlite"] == ["central"]
    assert gone["P12.pg"] == ["pg"]
    assert order.index("P5") < order.index("P4")  # the app starts before outcomes are saved
    assert order.index("P8") + 1 == order.index("P9")  # P9's device B is P8's fresh cache


def test_a_run_of_some_rows_releases_after_its_own_last_row() -> None:
    order = run_order(["P3", "P1"])
    assert order == ["P1", "P3"]
    assert releases(order) == [[], ["client"]]
    assert run_order(["P10"]) == ["P10.sqlite", "P10.pg"]
    assert releases(run_order(["P10"])) == [["central"], ["pg"]]


def test_store_copies_are_keyed_by_size_and_the_rest_are_not() -> None:
    assert resource_key("client", 1_000_000) == "client-1000000"
    assert resource_key("central", 10_000) == "central-10000"
    assert resource_key("pg", 1_000_000) == "pg"


def _ctx(tmp_path: Path, stack: contextlib.ExitStack) -> Ctx:
    return Ctx(repo=tmp_path, customers=1000, seed=1, quick=True, console=Console(quiet=True),
               stack=stack)  # fmt: skip


def test_releasing_a_resource_deletes_its_copy_and_forgets_its_sessions(tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(b"x" * 4096)
    with contextlib.ExitStack() as stack:
        ctx = _ctx(tmp_path, stack)
        ctx.resource("client-1000").callback(copy.unlink)
        ctx.keep("client-1000", "client-1000", "session")
        ctx.keep("central-1000", "svc", "service")
        assert ctx.release("client-1000")
        assert not copy.exists()
        assert "client-1000" not in ctx.cache
        assert ctx.cache["svc"] == "service"
        assert not ctx.release("client-1000")
        assert ctx.held() == ["central-1000"]
    assert ctx.held() == []
    assert "svc" not in ctx.cache


def test_disk_watch_reports_the_most_the_scratch_folders_held(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    phase = {"now": "P1"}
    watch = DiskWatch(lambda: [scratch], lambda: phase["now"], interval=3600, free_of=tmp_path)
    with watch:
        (scratch / "big").write_bytes(b"\1" * 1_000_000)
        phase["now"] = "P9"
        watch.sample()
        (scratch / "big").unlink()
        phase["now"] = "P10"
        watch.sample()
    assert watch.result.peak >= 1_000_000
    assert watch.result.during == "P9"
    assert "Peak scratch use 0.0 GB (during P9)" in watch.result.sentence()
    assert folder_bytes(scratch) == 0
