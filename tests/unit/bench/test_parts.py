"""P10 and P12 are measured in two parts (SQLite, then PostgreSQL) but shown as one row."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bench import b_service
from bench.context import Ctx
from bench.measure import stat_of


def _ctx(tmp_path: Path, stack: contextlib.ExitStack) -> Ctx:
    return Ctx(repo=tmp_path, customers=1000, seed=1, quick=True, console=Console(quiet=True),
               stack=stack)  # fmt: skip


def _fake_claims(calls: list[str]) -> Any:
    def claims(_ctx: Ctx, backend: str, _seconds: float, _floor_s: float) -> dict[str, Any]:
        calls.append(backend)
        ours = [0.004, 0.005, 0.006] if backend == "sqlite" else [0.010, 0.012, 0.030]
        return {"floor": stat_of([0.001, 0.001]), "ours": stat_of(ours), "error": None}

    return claims


def test_the_row_shows_both_stores_once_both_parts_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(b_service, "_claims", _fake_claims(calls))
    with contextlib.ExitStack() as stack:
        ctx = _ctx(tmp_path, stack)
        first = b_service.p10(ctx, ("sqlite",))
        assert [m.label for m in first.metrics] == ["SQLite"]
        assert first.verdict == "MISS"
        assert "PG not measured in this run" in first.note
        row = b_service.p10(ctx, ("postgresql",))
    assert calls == ["sqlite", "postgresql"]  # the SQLite part is not measured again
    assert [m.label for m in row.metrics] == ["SQLite", "PG"]
    assert not row.metrics[1].passed  # PG's p95 is over 20 ms
    assert row.metrics[0].passed
    assert row.verdict == "MISS"
    assert "not measured" not in row.note


def test_a_store_that_could_not_start_makes_the_row_a_miss_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def claims(_ctx: Ctx, backend: str, _s: float, _f: float) -> dict[str, Any]:
        if backend == "postgresql":
            return {"floor": None, "ours": None, "error": "PostgreSQL could not start"}
        return {"floor": stat_of([0.001]), "ours": stat_of([0.002]), "error": None}

    monkeypatch.setattr(b_service, "_claims", claims)
    with contextlib.ExitStack() as stack:
        row = b_service.p10(_ctx(tmp_path, stack))
    assert [m.label for m in row.metrics] == ["SQLite"]
    assert row.verdict == "MISS"
    assert "PostgreSQL could not start" in row.note
