"""The benchmark's verdicts, ratios and RESULTS.md section: a MISS is never shown as a PASS."""

from __future__ import annotations

from pathlib import Path

from bench.measure import percentile, stat_of
from bench.report import HEADER, Metric, Row, append_results, fmt_value, results_markdown


def test_time_metric_passes_only_when_p95_is_within_the_limit() -> None:
    fast = Metric("query", median=0.001, p95=0.004, floor=0.0001, limit=0.005)
    slow = Metric("query", median=0.001, p95=0.006, floor=0.0001, limit=0.005)
    assert fast.passed
    assert not slow.passed
    assert fast.ratio == 10.0


def test_rate_metric_needs_at_least_the_limit_and_ratio_is_cost() -> None:
    rate = Metric("push", median=4_000, p95=None, floor=40_000, limit=5_000, kind="rate",
                  judged="median")  # fmt: skip
    assert not rate.passed
    assert rate.ratio == 10.0


def test_row_without_figures_is_a_miss_with_its_note() -> None:
    row = Row("P5", "cold start", "≤ 1.5 s", [Metric("start", None, None, 0.2, 1.5)],
              note="not implemented yet: agentdesk.app", missing=True)  # fmt: skip
    cells = row.cells()
    assert cells[7] == "MISS"
    assert cells[2] == "—"
    assert "not implemented yet" in cells[8]


def test_row_passes_only_when_every_metric_passes() -> None:
    good = Metric("query", 0.001, 0.002, 0.0001, 0.005)
    bad = Metric("painted", 0.04, 0.08, 0.01, 0.050)
    assert Row("P1", "search", "t", [good]).verdict == "PASS"
    assert Row("P1", "search", "t", [good, bad]).verdict == "MISS"


def test_results_section_has_the_pinned_header_and_one_row_per_target(tmp_path: Path) -> None:
    rows = [Row(f"P{i}", "op", "t", [Metric("x", 0.001, 0.002, 0.001, 0.005)])
            for i in range(1, 13)]  # fmt: skip
    section = results_markdown(rows, repo=tmp_path, mode="quick")
    lines = section.splitlines()
    assert lines[0].startswith("## ")
    assert lines[0].endswith(" quick")
    assert HEADER in lines
    assert sum(1 for line in lines if line.startswith("| P")) == 12
    out = tmp_path / "RESULTS.md"
    append_results(out, section)
    append_results(out, section)
    assert out.read_text(encoding="utf-8").count(HEADER) == 2


def test_figures_are_readable() -> None:
    assert fmt_value(0.000034, "time") == "34 µs"
    assert fmt_value(0.0042, "time") == "4.20 ms"
    assert fmt_value(1.25, "time") == "1.25 s"
    assert fmt_value(250e6, "bytes") == "250 MB"
    assert fmt_value(12_345, "rate", "contacts") == "12.3 k contacts/s"
    assert fmt_value(None, "time") == "—"


def test_percentiles_interpolate() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.5
    assert percentile(values, 95) == 95.05
    st = stat_of(values)
    assert st.n == 100
    assert st.median == 50.5


def test_a_stopped_measurement_is_shown_as_a_lower_bound_and_never_passes() -> None:
    stopped = Metric("100 k", 60.0, 60.0, 2.0, 30.0, lower_bound=True)
    row = Row("P8", "first sync", "≤ 30 s", [stopped], note="stopped after 60 s")
    cells = row.cells()
    assert cells[2].startswith("> ")
    assert row.verdict == "MISS"
