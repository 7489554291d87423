"""Run the reliability scenarios: ``python -m tests.reliability.run --iterations N --seed S``.

Prints exactly one line per scenario::

    scenario=NAME iterations=N acked=N lost=0 duplicated=0 conflicts_flagged=N/N

and exits 1 when any scenario lost or duplicated a contact, broke a cache, moved a cursor
backwards, rejected a fact or left a policy conflict unflagged. Details (drain cycles, proxy
cuts, crash points hit, timings) go to ``<workdir>/<scenario>/<scenario>.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.reliability.scenarios import SCENARIOS, run_scenario


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the scenarios, print the summary lines."""
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.run")
    parser.add_argument("--iterations", type=int, default=20, help="iterations per scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--workdir", type=Path, default=None, help="kept for inspection")
    parser.add_argument("--db", default=None, help="central store URL (default: temp SQLite)")
    ns = parser.parse_args(argv)
    names = [n for n in ns.scenarios.split(",") if n]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    workdir = ns.workdir or Path(tempfile.mkdtemp(prefix="agentdesk-reliability-"))
    failed = False
    for index, name in enumerate(names):
        verdict = run_scenario(name, ns.iterations, ns.seed + index, workdir, ns.db)
        print(verdict.line(), flush=True)
        failed |= not verdict.ok
    print(f"details: {workdir}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
