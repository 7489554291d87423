"""``python -m bench [--quick] [--only P1,P3] [--customers N]``: P1–P12 against their floors.

Each row measures the product's real code path and the raw floor in the same run, prints the
table and appends it to ``bench/RESULTS.md``. A product part that does not exist yet gives a
``MISS`` row saying so; nothing is ever estimated.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import cast

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.context import Ctx
from bench.disk import DiskWatch
from bench.plan import PARTS, SCALING, releases, resource_key, row_of, run_order
from bench.report import Row, append_results, render, results_markdown

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent


def _registry() -> list[tuple[str, str, str, Callable[[Ctx], Row]]]:
    from bench import b_open, b_policy, b_search, b_service, b_sync, b_ui

    return [
        ("P1", "phone prefix search", "≤ 5 ms query, ≤ 50 ms painted", b_search.p1),
        ("P2", "name search, 1–3 Chinese chars", "≤ 30 ms query", b_search.p2),
        ("P3", "open a customer", "≤ 30 ms data, ≤ 100 ms painted", b_open.p3),
        ("P4", "save an outcome (durable)", "≤ 5 ms commit", b_open.p4),
        ("P5", "cold start to usable window", "≤ 1.5 s", b_ui.p5),
        ("P6", "first screen of a 1 M-row list", "≤ 50 ms", b_ui.p6),
        ("P7", "push contacts, one client", "≥ 5,000 contacts/s", b_sync.p7),
        ("P8", "first sync, 100 k scope", "≤ 30 s (1 M: ≤ 60 s)", b_sync.p8),
        ("P9", "contact on A shows on B", "≤ 1 s p95", b_sync.p9),
        ("P10", "claim under 50 agents", "≤ 20 ms p95", b_service.p10),
        ("P11", "client RSS, 1 M cache", "≤ 300 MB", b_ui.p11),
        ("P12", "service capacity", "≥ 500 tx/s, p99 ≤ 50 ms, SQLite and PG", b_service.p12),
        (
            "E1",
            "policy + recommendations for one customer (client, offline)",
            "≤ 2 ms",
            b_policy.e1,
        ),
    ]


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 k customers, fewer repetitions")
    parser.add_argument("--only", default="", help="comma-separated rows, e.g. P1,P3")
    parser.add_argument("--customers", type=int, default=0, help="data set size")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    parser.add_argument(
        "--no-append", action="store_true", help="do not write RESULTS.md nor scaling.png"
    )
    parser.add_argument(
        "--prepare", action="store_true", help="only build the cached data sets of --customers"
    )
    parser.add_argument(
        "--prepare-pg", action="store_true", help="only build the PostgreSQL copy of the store"
    )
    return parser.parse_args(argv)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _run_row(ctx: Ctx, pid: str, op: str, target: str, fn: Callable[[Ctx], Row]) -> Row:
    start = time.perf_counter()
    try:
        row = fn(ctx)
    except Exception as exc:  # a bench must never stop the others
        ctx.console.print(f"[red]{pid} failed:[/red] {type(exc).__name__}: {exc}")
        ctx.console.print(traceback.format_exc(limit=4), markup=False)
        row = Row(pid, op, target, missing=True, note=f"error: {type(exc).__name__}: {exc}"[:300])
    row.seconds = time.perf_counter() - start
    return row


def _step_fn(step: str, fn: Callable[[Ctx], Row]) -> Callable[[Ctx], Row]:
    """The function of one step: a part (``P10.pg``) measures only its backend."""
    if "." not in step:
        return fn
    backend = {"sqlite": "sqlite", "pg": "postgresql"}[step.split(".", 1)[1]]
    parted = cast(Callable[..., Row], fn)
    return lambda ctx: parted(ctx, (backend,))


def _prepare(console: Console, customers: int, seed: int, *, pg_only: bool = False) -> int:
    """Build (or find) the floor data set, the central store, the synced cache, the PG copy."""
    from bench.client import cached_client_db
    from bench.dataset import central_db
    from bench.pgdata import pg_template

    with contextlib.ExitStack() as stack:
        ctx = Ctx(repo=REPO, customers=customers, seed=seed, quick=True, console=console,
                  stack=stack, status=lambda text: console.print(text))  # fmt: skip
        steps: list[tuple[str, Callable[[], object]]] = [
            ("floor", ctx.floor_db), ("central", lambda: central_db(ctx, customers)),
            ("client", lambda: cached_client_db(ctx, customers)),
            ("postgresql", lambda: pg_template(ctx, customers)),
        ]  # fmt: skip
        if pg_only:
            steps = [("postgresql", lambda: pg_template(ctx, customers))]
        for step, fn in steps:
            start = time.perf_counter()
            fn()
            for name in ctx.held():  # the first sync's copy of the central store goes now
                ctx.release(name)
            console.print(f"{step} data set ready after {time.perf_counter() - start:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the selected rows, print the table and append it to ``bench/RESULTS.md``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args = _args(argv)
    customers = args.customers or (100_000 if args.quick else 1_000_000)
    wanted = {p.strip().upper() for p in args.only.split(",") if p.strip()}
    registry = _registry()
    known = [r[0] for r in registry]
    if unknown := sorted(wanted - set(known)):
        sys.stderr.write(f"bench: no row {', '.join(unknown)}; the rows are {', '.join(known)}.\n")
        return 2
    rows_todo = [r for r in registry if not wanted or r[0] in wanted]
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    if args.prepare or args.prepare_pg:
        return _prepare(console, customers, args.seed, pg_only=args.prepare_pg)
    mode = "quick" if args.quick else "full"
    scaling = not args.no_scaling and not wanted
    done: dict[str, Row] = {}
    extra = ""
    started = time.perf_counter()
    phase = {"now": "start"}
    with contextlib.ExitStack() as stack, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:  # fmt: skip
        overall = progress.add_task("rows", total=len(rows_todo), status="")
        row_task = progress.add_task("", total=None, status="")
        ctx = Ctx(repo=REPO, customers=customers, seed=args.seed, quick=args.quick,
                  console=console, stack=stack)  # fmt: skip
        ctx.tick = lambda: progress.advance(row_task)
        ctx.status = lambda text: progress.update(row_task, status=text[:60])
        signal.signal(signal.SIGTERM, _interrupt)
        watch = DiskWatch(lambda: list(ctx.scratch_roots), lambda: phase["now"],
                          free_of=ctx.data_root)  # fmt: skip
        stack.enter_context(watch)
        ctx.scratch  # noqa: B018 - made now so the watch sees every copy in it
        by_pid = {r[0]: r for r in rows_todo}
        order = run_order([*by_pid, *([SCALING] if scaling else [])])
        try:
            from bench.scaling import measure_own_size, run_scaling

            for step, gone in zip(order, releases(order), strict=True):
                phase["now"] = step
                if step == SCALING:
                    progress.reset(row_task, description="scaling figures", total=None, status="")
                    measure_own_size(ctx)
                else:
                    pid, op, target, fn = by_pid[row_of(step)]
                    progress.reset(row_task, description=f"{step} {op}", total=None, status="")
                    console.log(f"{step} {op}: start")
                    row = _run_row(ctx, pid, op, target, _step_fn(step, fn))
                    if pid in done:  # the row's earlier part: its time, and its error if any
                        row.seconds += done[pid].seconds
                        if done[pid].note.startswith("error:"):
                            row.missing = True
                            row.note = f"{done[pid].note}; {row.note}"
                    last = PARTS.get(pid, (step,))[-1]
                    if step == last:
                        console.log(f"{step}: {row.verdict} after {row.seconds:.0f} s")
                        progress.advance(overall)
                    else:  # the row is judged on all of its parts, so not yet
                        console.log(f"{step}: measured after {row.seconds:.0f} s ({pid} is "
                                    f"judged after {last})")  # fmt: skip
                    done[pid] = row  # a row measured in parts: its last part shows them all
                watch.sample()
                for name in gone:
                    ctx.release(resource_key(name, customers))
            if scaling:
                phase["now"] = "scaling"
                progress.reset(row_task, description="scaling", total=None, status="")
                try:
                    extra = run_scaling(ctx, plot=not args.no_append)  # --no-append: no file
                except Exception as exc:  # the rows' table is still printed and written
                    console.print(f"[red]scaling failed:[/red] {type(exc).__name__}: {exc}")
                    extra = f"Scaling: not measured ({type(exc).__name__}: {exc})"
        except KeyboardInterrupt:
            mode += " (interrupted)"
    rows = [done.get(pid) or Row(pid, op, target, missing=True, note="not run: the run was "
            "interrupted") for pid, op, target, _fn in rows_todo]  # fmt: skip
    elapsed = time.perf_counter() - started
    title = f"agentdesk bench ({mode}, {customers:,} customers, {elapsed:.0f} s)"
    render(rows, console, title)
    if extra:
        console.print(extra, markup=False)
    disk = watch.result.sentence()
    console.print(disk)
    footer = f"Run took {elapsed:.0f} s on {customers:,} customers (seed {args.seed}). {disk}"
    section = results_markdown(rows, repo=REPO, mode=mode, extra=(extra + "\n\n" + footer).strip())
    if not args.no_append:
        append_results(REPO / "bench" / "RESULTS.md", section)
        console.print("appended to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
