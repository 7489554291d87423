"""The scaling plot (bench/scaling.png): readable labels, and a file written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.scaling import _plot, _seconds


def test_each_decade_of_seconds_reads_in_its_unit() -> None:
    assert [_seconds(10.0**k) for k in range(-5, 3)] == [
        "10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s", "10 s", "100 s",
    ]  # fmt: skip


def test_the_plot_is_written_for_the_sizes_measured(tmp_path: Path, qapp: Any) -> None:
    rows = {
        10_000: {"search": 1.3e-4, "pull": 1.9, "push": 14_600.0},
        100_000: {"search": 2.1e-4, "pull": 16.4, "push": 11_800.0},
    }
    target = tmp_path / "scaling.png"
    assert _plot(rows, target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_a_log_axis_cannot_show_are_left_out_not_fatal(tmp_path: Path, qapp: Any) -> None:
    """A push rate of 0 (nothing pushed), an infinite or missing figure: the plot leaves that
    point out instead of stopping the run after every row was measured."""
    rows = {
        10_000: {"search": 1.3e-4, "push": 0.0, "pull": float("inf")},
        100_000: {"search": 2.1e-4, "push": 11_800.0, "pull": 16.4},
    }
    assert _plot(rows, tmp_path / "scaling.png")
    assert not _plot({}, tmp_path / "empty.png")  # no size measured: no plot, no error
    assert not (tmp_path / "empty.png").exists()
