"""Two bench processes on one data set upgrade its pristine client cache once, not twice.

The first holds the data set's lock while it upgrades; the second waits for it and then finds
the cache at the newest schema. Both run here as threads: ``flock`` locks belong to each
opened lock file, so two threads exclude each other as two processes do. The upgrade is held
on a ``threading.Event`` until the second one is seen waiting, so the order is fixed.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from agentdesk.store import migrate
from bench.client import LOCK_NAME, cached_client_db
from bench.context import Ctx

SIZE = 1000
WAIT_S = 30  # a guard against a hang, not a timing assertion


def _ctx(tmp_path: Path, stack: contextlib.ExitStack, status: Any = None) -> Ctx:
    return Ctx(repo=tmp_path, customers=SIZE, seed=1, quick=True, console=Console(quiet=True),
               stack=stack, status=status or (lambda _text: None))  # fmt: skip


def test_a_second_process_waits_for_the_upgrade_and_finds_it_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrading, release, waiting = threading.Event(), threading.Event(), threading.Event()
    upgrades: list[Path] = []
    real_upgrade = migrate.upgrade

    def held_upgrade(path: Path, **kw: Any) -> migrate.MigrationResult:
        upgrades.append(path)
        upgrading.set()
        assert release.wait(WAIT_S)
        return real_upgrade(path, **kw)

    def status_b(text: str) -> None:
        if text.startswith("waiting for another bench process"):
            waiting.set()

    results: dict[str, tuple[Path, dict[str, Any]]] = {}
    errors: list[BaseException] = []

    def run(name: str, ctx: Ctx) -> None:
        try:
            results[name] = cached_client_db(ctx, SIZE)
        except BaseException as exc:
            errors.append(exc)

    with contextlib.ExitStack() as stack_a, contextlib.ExitStack() as stack_b:
        ctx_a, ctx_b = _ctx(tmp_path, stack_a), _ctx(tmp_path, stack_b, status_b)
        data = ctx_a.data_dir(SIZE)
        cache = data / "client" / "bench_cc.db"
        cache.parent.mkdir()
        real_upgrade(cache, target="0003")  # a cache synced by an older product
        built = {"seconds": 1.0, "pulled": 0, "pages": 0, "complete": True}
        (data / "client.json").write_text(json.dumps(built))
        monkeypatch.setattr(migrate, "upgrade", held_upgrade)

        first = threading.Thread(target=run, args=("a", ctx_a))
        first.start()
        assert upgrading.wait(WAIT_S)
        second = threading.Thread(target=run, args=("b", ctx_b))
        second.start()
        seen_waiting = waiting.wait(WAIT_S)
        release.set()
        first.join(WAIT_S)
        second.join(WAIT_S)

    assert not errors
    assert seen_waiting  # the second one waited for the lock
    assert upgrades == [cache]  # upgraded once
    assert migrate.current_revision(cache) == migrate.HEAD
    upgrade = {"from": "0003", "to": migrate.HEAD}
    info = json.loads((data / "client.json").read_text())
    assert [{k: u[k] for k in upgrade} for u in info["upgrades"]] == [upgrade]
    assert results["b"][1]["upgrades"] == info["upgrades"]  # the second sees the first's work
    assert results["a"][1]["upgrades"] == info["upgrades"]
    assert (data / LOCK_NAME).exists()


def test_a_current_cache_is_neither_rebuilt_nor_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with contextlib.ExitStack() as stack:
        ctx = _ctx(tmp_path, stack)
        data = ctx.data_dir(SIZE)
        cache = data / "client" / "bench_cc.db"
        cache.parent.mkdir()
        migrate.upgrade(cache)
        built = {"seconds": 1.0, "pulled": 0, "pages": 0, "complete": True}
        (data / "client.json").write_text(json.dumps(built))
        monkeypatch.setattr(migrate, "upgrade", lambda *_a, **_k: pytest.fail("upgraded"))
        path, info = cached_client_db(ctx, SIZE)
    assert path == cache
    assert info == built
