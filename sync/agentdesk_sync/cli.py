"""``agentdesk-sync``: the central service's command line (see docs/operations.md).

Every subcommand takes ``--db URL`` (else ``$AGENTDESK_SYNC_DB``, else the embedded SQLite file).
Exit codes: 0 done, 1 failed (one sentence on stderr, never a traceback), 2 bad usage.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import DBAPIError

from agentdesk.domain import Role
from agentdesk_sync.db.engine import DB_ENV, make_engine, migrate, resolve_db_url
from agentdesk_sync.db.errors import DataInputError, StoreError, translate_db_error

__all__ = ["app", "main"]

app = typer.Typer(
    name="agentdesk-sync",
    help="The agentdesk central shared-data service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="sqlite:///PATH or postgresql+psycopg://… (env AGENTDESK_SYNC_DB)."),
]


class ImportKind(StrEnum):
    """What an import file holds."""

    CUSTOMERS = "customers"
    CAMPAIGNS = "campaigns"
    TARGETS = "targets"
    CONTACTS = "contacts"


def _say(message: str) -> None:
    typer.echo(message)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
) -> None:
    """Run the HTTP API v1 service (migrates the store first)."""
    from agentdesk_sync import server

    server.run(resolve_db_url(db), host, port)


@app.command("migrate")
def migrate_command(db: DbOption = None) -> None:
    """Create or upgrade the central schema."""
    from agentdesk_sync.db.migrate import current_revision

    url = resolve_db_url(db)
    migrate(url)
    _say(f"The central store is at schema revision {current_revision(url)}.")


@app.command()
def seed(
    db: DbOption = None,
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the generator.")] = 42,
    anchor: Annotated[
        str | None, typer.Option(help="The data set's 'today' (YYYY-MM-DD); default today (UTC).")
    ] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="Write the customers to this CSV (an `import customers` file) instead of "
            "loading the store.",
        ),
    ] = None,
) -> None:
    """Load the deterministic demo/benchmark data set (migrates first if needed)."""
    from agentdesk_sync.seed import seed_database

    day = _parse_day(anchor) if anchor else None
    if csv_out is not None:
        from datetime import UTC, datetime

        from agentdesk_sync.seed.export import write_customers_csv

        try:
            count = write_customers_csv(csv_out, customers, seed, day or datetime.now(UTC).date())
        except OSError as exc:
            raise DataInputError(f"Cannot write {csv_out}: {exc.strerror}.") from None
        _say(f"Wrote {count} customers to {csv_out}.")
        return
    with _progress("seeding") as progress:
        report = seed_database(resolve_db_url(db), customers, seed, anchor=day, progress=progress)
    _say(report.summary())


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD).") from None


def _read_portfolio(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataInputError(f"Cannot read the portfolio file {path}: {exc.strerror}.") from None
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _managed_by(session: Any, username: str) -> list[str]:
    from sqlalchemy import select

    from agentdesk_sync.db.models import Customer

    stmt = select(Customer.customer_id).where(Customer.account_manager_id == username)
    return list(session.scalars(stmt.order_by(Customer.customer_id)))


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Option(help="Login name (also the user id).")],
    password: Annotated[str, typer.Option(help="Password.")],
    role: Annotated[Role, typer.Option(help="Role.")],
    db: DbOption = None,
    region: Annotated[list[str] | None, typer.Option(help="Region code (repeatable).")] = None,
    channel: Annotated[list[str] | None, typer.Option(help="Channel (repeatable).")] = None,
    portfolio_file: Annotated[
        Path | None,
        typer.Option(
            help="File with one customer id per line (field users); without it a field user "
            "gets the customers whose account manager id is the username."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a user (or replace the one with this username)."""
    from sqlalchemy.orm import Session

    from agentdesk_sync import auth

    url = resolve_db_url(db)
    portfolio = _read_portfolio(portfolio_file)
    migrate(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            if role is Role.FIELD and portfolio_file is None:
                portfolio = _managed_by(session, username)
            auth.create_user(
                session, username, password, role.value, region or [], channel or [],
                portfolio, name=name,
            )  # fmt: skip
            session.commit()
    except ValueError as exc:
        raise DataInputError(str(exc)) from None
    finally:
        engine.dispose()
    extra = f" with {len(portfolio)} customers in the portfolio" if role is Role.FIELD else ""
    _say(f"User {username} ({role.value}) saved{extra}.")


@app.command("import")
def import_command(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="A .csv or .ndjson file.")],
    db: DbOption = None,
    map_file: Annotated[Path | None, typer.Option("--map", help="Mapping TOML file.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")] = False,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows to this CSV.")] = None,
) -> None:
    """Import shared data (upsert by business key) with a reject report."""
    from agentdesk_sync.importers import run_import

    url = resolve_db_url(db)
    with _progress(f"importing {kind.value}") as progress:
        report = run_import(
            url, kind.value, file, map_path=map_file, dry_run=dry_run, rejects_path=rejects,
            progress=progress,
        )  # fmt: skip
    _say(report.summary())


@app.command()
def merge(
    keep: Annotated[str, typer.Argument(help="Customer id to keep.")],
    other: Annotated[str, typer.Argument(help="Customer id merged into KEEP and removed.")],
    db: DbOption = None,
) -> None:
    """Merge customer OTHER into KEEP (seed 002)."""
    from agentdesk_sync.merge import merge_customers

    _say(merge_customers(resolve_db_url(db), keep, other).summary())


@app.command("merge-candidates")
def merge_candidates(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many pairs.")] = 200,
) -> None:
    """List pairs of customers that look like the same person."""
    from agentdesk_sync.merge import find_candidates

    pairs = find_candidates(resolve_db_url(db), limit=limit)
    for pair in pairs:
        _say(pair.line())
    _say(f"{len(pairs)} candidate pair(s).")


@app.command()
def simulate(
    db: DbOption = None,
    agents: Annotated[int, typer.Option(min=1, help="Simulated frontline users.")] = 30,
    customers: Annotated[int, typer.Option(min=1, help="Customers to seed.")] = 2000,
    hours: Annotated[float, typer.Option(min=0.1, help="Length of the working day.")] = 8.0,
    offline_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of agents working offline.")
    ] = 0.3,
    seed: Annotated[int, typer.Option(help="Seed of the simulation and the data set.")] = 1,
    json_out: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Drive a simulated working day against its own service (default DB: a temp SQLite)."""
    simulation = importlib.import_module("agentdesk_sync.simulate")
    url = db or os.environ.get(DB_ENV) or None
    code = int(simulation.main(url, agents, customers, hours, offline_share, seed, json_out) or 0)
    if code:
        raise typer.Exit(code)


def _fail(message: str) -> int:
    sys.stderr.write(message.rstrip() + "\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done, 1 failed, 2 bad usage)."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="agentdesk-sync", standalone_mode=True)
    except SystemExit as exc:  # typer's own ending: usage errors are 2
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        return _fail(str(exc.code))
    except StoreError as exc:
        return _fail(str(exc))
    except DBAPIError as exc:
        return _fail(str(translate_db_error(exc)))
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}: {exc.filename}." if exc.filename else f"{exc}.")
    return 0
