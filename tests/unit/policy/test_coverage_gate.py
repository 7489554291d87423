"""Coverage gate: the policy and recommendation packages are fully covered by their tests.

Runs the scenario tests of ``tests/unit/policy`` and ``tests/unit/recommend`` (not the property
tests ``test_properties.py`` and ``test_fast_path.py``, so the figure never depends on generated
cases) under ``coverage`` with branch measurement in a subprocess, and requires 100 % line and
branch coverage of every file of ``agentdesk.policy`` and ``agentdesk.recommend``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = "agentdesk.policy,agentdesk.recommend"


def test_policy_and_recommend_have_full_line_and_branch_coverage(tmp_path: Path) -> None:
    data = tmp_path / ".coverage"
    run = [
        sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}",
        f"--source={PACKAGES}", "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests/unit/policy", "tests/unit/recommend",
        "--ignore=tests/unit/policy/test_properties.py",
        "--ignore=tests/unit/policy/test_coverage_gate.py",
        "--ignore=tests/unit/recommend/test_fast_path.py",
    ]  # fmt: skip
    tests = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, check=False)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    report = tmp_path / "coverage.json"
    subprocess.run(
        [sys.executable, "-m", "coverage", "json", f"--data-file={data}", "-o", str(report)],
        cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    files = json.loads(report.read_text())["files"]
    assert len(files) >= 19  # every module of both packages was imported and measured
    short = {
        name: (f["summary"]["missing_lines"], f["summary"]["missing_branches"], f["missing_lines"])
        for name, f in files.items()
        if f["summary"]["missing_lines"] or f["summary"]["missing_branches"]
    }
    assert short == {}
