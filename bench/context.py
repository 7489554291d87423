"""The state of one benchmark run: options, data folders, shared resources, progress.

Expensive things (the floor data set, the central data set, the client cache, a running
service, a PostgreSQL cluster, the QApplication) are made once, on first use, and torn down by
the run's ``ExitStack``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.floordata import build_floor_db
from bench.floors import connect_ro, sample_customers
from bench.measure import Stat
from bench.report import Metric

__all__ = ["Ctx", "NotReady", "metric", "product"]


class NotReady(Exception):
    """A product part the benchmark needs does not exist yet (module, function, command)."""


@contextlib.contextmanager
def product(what: str) -> Iterator[None]:
    """Turn a missing product module or attribute into :class:`NotReady` naming ``what``."""
    try:
        yield
    except (ImportError, AttributeError) as exc:
        raise NotReady(f"{what} ({type(exc).__name__}: {exc})") from exc


def metric(
    label: str,
    ours: Stat | None,
    floor: Stat | float | None,
    limit: float,
    *,
    judged: str = "p95",
) -> Metric:
    """A time metric from our sample and the floor's (its median, or a plain number)."""
    floor_value = floor.median if isinstance(floor, Stat) else floor
    p95 = None
    if ours is not None:
        p95 = ours.p99 if judged == "p99" else ours.p95
    return Metric(
        label=label,
        median=None if ours is None else ours.median,
        p95=p95,
        floor=floor_value,
        limit=limit,
        judged=judged,
    )


@dataclass
class Ctx:
    """One run of the benchmark.

    Attributes:
        repo: The repository root.
        customers: Size of the main data set.
        seed: Seed of the generators.
        quick: Fewer repetitions and a smaller data set.
        console: Where messages go.
        stack: Everything to tear down at the end of the run.
        tick: Advances the progress bar of the current row.
        status: Shows what the current row is doing.
    """

    repo: Path
    customers: int
    seed: int
    quick: bool
    console: Console
    stack: contextlib.ExitStack
    tick: Callable[[], None] = lambda: None
    status: Callable[[str], None] = lambda _text: None
    cache: dict[str, Any] = field(default_factory=dict)
    scratch_roots: list[Path] = field(default_factory=list)
    _resources: dict[str, contextlib.ExitStack] = field(default_factory=dict)
    _owners: dict[str, str] = field(default_factory=dict)

    def resource(self, name: str) -> contextlib.ExitStack:
        """The tear-down stack of one named resource of the run (a copied store, a server).

        Made on first use; closed by :meth:`release` as soon as no later row needs it, or at
        the end of the run.
        """
        if name not in self._resources:
            self._resources[name] = contextlib.ExitStack()
            self.stack.callback(self.release, name)
        return self._resources[name]

    def keep(self, name: str, key: str, value: Any) -> Any:
        """Store ``value`` under ``key`` in :attr:`cache` until resource ``name`` is released."""
        self.resource(name)
        self.cache[key] = value
        self._owners[key] = name
        return value

    def release(self, name: str) -> bool:
        """Tear down resource ``name`` now (stop its servers, delete its copies).

        Returns:
            Whether it was held.
        """
        stack = self._resources.pop(name, None)
        for key in [k for k, owner in self._owners.items() if owner == name]:
            self.cache.pop(key, None)
            del self._owners[key]
        if stack is None:
            return False
        stack.close()
        return True

    def held(self) -> list[str]:
        """Names of the resources held now."""
        return sorted(self._resources)

    @property
    def reps(self) -> int:
        """Repetitions of a millisecond-scale operation."""
        return 200 if self.quick else 400

    @property
    def ui_reps(self) -> int:
        """Repetitions of an operation that paints widgets."""
        return 60 if self.quick else 150

    @property
    def spawn_reps(self) -> int:
        """Repetitions of a cold start (a fresh process each)."""
        return 3 if self.quick else 10

    @property
    def data_root(self) -> Path:
        """``.bench-data`` under the repository (gitignored)."""
        root = self.repo / ".bench-data"
        root.mkdir(exist_ok=True)
        return root

    def data_dir(self, customers: int | None = None, *, create: bool = True) -> Path:
        """The cached data folder of one data set size: ``.bench-data/<seed>-<size>-g<version>``.

        The generator's version is part of the name: data seeded by an older generator is not
        what a fresh clone would measure, so it is seeded again (delete old folders by hand).
        """
        from agentdesk_sync.seed.loader import GENERATOR_VERSION

        size = customers or self.customers
        folder = self.data_root / f"{self.seed}-{size}-g{GENERATOR_VERSION}"
        if create:
            folder.mkdir(exist_ok=True)
        return folder

    @cached_property
    def scratch(self) -> Path:
        """A folder for throwaway files of this run, removed at its end.

        One per process, so two runs at once (one row each, say) never serve or copy over each
        other's files; folders left behind by a killed run are removed by the next one.
        """
        for old in self.data_root.glob("scratch-*"):
            pid = old.name.removeprefix("scratch-")
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(old, ignore_errors=True)
        folder = self.data_root / f"scratch-{os.getpid()}"
        folder.mkdir(exist_ok=True)
        self.stack.callback(shutil.rmtree, folder, True)
        self.scratch_roots.append(folder)
        return folder

    def floor_db(self, customers: int | None = None) -> Path:
        """The raw floor data set of a size (built once, then reused)."""
        size = customers or self.customers
        path = self.data_dir(size) / "floor.db"
        if not path.exists():
            self.status(f"building the floor data set ({size:,} customers)")
        return build_floor_db(path, size, self.seed)

    @cached_property
    def floor_con(self) -> sqlite3.Connection:
        """A read-only connection to the main floor data set."""
        con = connect_ro(self.floor_db())
        self.stack.callback(con.close)
        return con

    @cached_property
    def floor_sample(self) -> list[tuple[str, str, str]]:
        """Random (customer_id, msisdn, name) triples of the floor data set."""
        return sample_customers(self.floor_con, 500, self.seed)
