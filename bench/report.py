"""Rows of the result table, their verdicts, the terminal table and ``bench/RESULTS.md``.

A row is one speed target (P1–P12). It holds one or more :class:`Metric`: e.g. P1 has the query
time and the time to the painted list. The row passes only when every metric meets its limit.
Ratios are always *cost relative to the floor*: ``ours / floor`` for times and memory,
``floor / ours`` for rates, so 1.0× is the floor and larger is slower.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = [
    "Metric",
    "Row",
    "append_results",
    "fmt_value",
    "machine_name",
    "render",
    "results_markdown",
]

HEADER = "| # | operation | median | p95 | floor | ratio | target | verdict | note |"
RULE = "|---|---|---|---|---|---|---|---|---|"


@dataclass(frozen=True, slots=True)
class Metric:
    """One measured figure beside its floor.

    Attributes:
        label: Short name shown before the values when a row has several metrics.
        median: Our median (seconds, per-second rate or bytes), None when not measured.
        p95: Our p95 (or p99 when ``judged`` is ``p99``), None when not measured.
        floor: The raw floor measured in the same run, None when there is none.
        limit: The target the judged statistic must meet.
        kind: ``time`` (seconds, lower is better), ``rate`` (per second, higher is better) or
            ``bytes`` (lower is better).
        judged: Which statistic is compared with ``limit``: ``p95``, ``p99`` or ``median``.
        unit: Name of the counted thing for rates (``contacts``, ``tx``).
    """

    label: str
    median: float | None
    p95: float | None
    floor: float | None
    limit: float
    kind: str = "time"
    judged: str = "p95"
    unit: str = ""
    lower_bound: bool = False

    @property
    def value(self) -> float | None:
        """The statistic that is judged against the limit."""
        return self.median if self.judged == "median" else self.p95

    @property
    def passed(self) -> bool:
        """Whether the judged statistic meets the limit."""
        value = self.value
        if value is None or self.lower_bound:  # a stopped measurement never passes
            return False
        return value >= self.limit if self.kind == "rate" else value <= self.limit

    @property
    def ratio(self) -> float | None:
        """Cost relative to the floor (1.0 = the floor, larger = slower)."""
        value = self.median
        if value is None or not self.floor:
            return None
        return self.floor / value if self.kind == "rate" else value / self.floor


@dataclass(slots=True)
class Row:
    """One line of the table: a speed target and what we measured for it."""

    pid: str
    operation: str
    target: str
    metrics: list[Metric] = field(default_factory=list)
    note: str = ""
    missing: bool = False
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """``PASS`` when every metric meets its limit, otherwise ``MISS``."""
        if self.missing or not self.metrics:
            return "MISS"
        return "PASS" if all(m.passed for m in self.metrics) else "MISS"

    def cells(self) -> list[str]:
        """The nine cells of the row, formatted."""
        multi = len(self.metrics) > 1

        def join(parts: list[str]) -> str:
            return " · ".join(parts) if parts else "—"

        def lab(m: Metric, text: str) -> str:
            return f"{m.label} {text}" if multi and m.label else text

        med = join([lab(m, _bound(m) + fmt_value(m.median, m.kind, m.unit)) for m in self.metrics])
        p95 = join([lab(m, _bound(m) + _p95_text(m)) for m in self.metrics])
        flo = join([lab(m, fmt_value(m.floor, m.kind, m.unit)) for m in self.metrics])
        rat = join(
            [lab(m, f"{m.ratio:.1f}×" if m.ratio is not None else "—") for m in self.metrics]
        )
        return [self.pid, self.operation, med, p95, flo, rat, self.target, self.verdict, self.note]


def _bound(m: Metric) -> str:
    return "> " if m.lower_bound and m.median is not None else ""


def _p95_text(m: Metric) -> str:
    text = fmt_value(m.p95, m.kind if m.kind != "rate" else "time", "")
    if m.judged == "p99" and m.p95 is not None:
        return f"p99 {text}"
    return text


def fmt_value(value: float | None, kind: str, unit: str = "") -> str:
    """Format a figure for humans: µs/ms/s for times, MB for bytes, k/s for rates."""
    if value is None:
        return "—"
    if kind == "bytes":
        return f"{value / 1e6:.0f} MB"
    if kind == "rate":
        suffix = f" {unit}/s" if unit else "/s"
        return f"{value / 1000:.1f} k{suffix}" if value >= 10_000 else f"{value:,.0f}{suffix}"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1.0:
        return f"{value * 1e3:.2f} ms" if value < 0.01 else f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def machine_name() -> str:
    """A short description of this machine: host, CPU count, memory."""
    import os

    import psutil

    mem_gb = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.node()} ({os.cpu_count()} cpu, {mem_gb:.0f} GB, py{platform.python_version()})"
    )


def _commit(repo: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def results_markdown(rows: list[Row], *, repo: Path, mode: str, extra: str = "") -> str:
    """The markdown section appended to ``bench/RESULTS.md`` for one run."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## {now} {_commit(repo)} {machine_name()} {mode}", "", HEADER, RULE]
    for row in rows:
        cells = [c.replace("|", "\\|").replace("\n", " ") for c in row.cells()]
        lines.append("| " + " | ".join(cells) + " |")
    if extra:
        lines += ["", extra.rstrip()]
    return "\n".join(lines) + "\n"


def append_results(path: Path, section: str) -> None:
    """Append one run's section to ``RESULTS.md`` (created with a title if missing)."""
    if not path.exists():
        path.write_text(
            "# Benchmark results\n\nAppended by `make bench` (see bench/README.md). Ratio = cost "
            "relative to the raw floor measured in the same run (ours/floor for times and "
            "memory, floor/ours for rates).\n",
            encoding="utf-8",
        )
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n" + section)


def render(rows: list[Row], console: Console, title: str) -> None:
    """Print the result table to the terminal."""
    table = Table(title=title, show_lines=True)
    for name in ("#", "operation", "median", "p95", "floor", "ratio", "target", "verdict", "note"):
        table.add_column(name, overflow="fold")
    for row in rows:
        cells = [escape(c) for c in row.cells()]
        style = "green" if row.verdict == "PASS" else "red"
        cells[7] = f"[{style}]{cells[7]}[/{style}]"
        table.add_row(*cells)
    console.print(table)
