"""The ``agentdesk`` command: the GUI, screen-pop into the running window, and the demo.

Usage::

    agentdesk                                   # the GUI (log in, then the role's home screen)
    agentdesk open --msisdn 13812345678         # screen-pop into the running window
    agentdesk demo [--smoke] [--screenshot FILE.png] [--customers N]

Exit codes: 0 done, 1 failed (one sentence on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentdesk", description="Frontline desktop for telecom staff."
    )
    sub = parser.add_subparsers(dest="command")
    pop = sub.add_parser("open", help="open a customer in the running window (screen-pop)")
    pop.add_argument("--msisdn", required=True, help="the caller's number")
    demo = sub.add_parser("demo", help="start a demo service with demo data and open the client")
    demo.add_argument(
        "--smoke", action="store_true", help="headless: log one outcome, sync, verify"
    )
    demo.add_argument("--screenshot", type=Path, help="save the main window to this PNG and exit")
    demo.add_argument("--customers", type=int, default=20_000, help="customers to seed (first run)")
    demo.add_argument("--port", type=int, default=8765, help="service port on 127.0.0.1")
    demo.add_argument(
        "--as",
        dest="as_user",
        default="agent",
        help="demo user to log in as (agent, clerk, am_440100_1, supervisor)",
    )
    demo.add_argument(
        "--show",
        default="customer",
        choices=("customer", "usage", "attention", "field", "supervisor", "counter", "first-sync"),
        help="what the screenshot shows (first-sync: a new cache, searched and opened while "
        "its first sync runs)",
    )
    demo.add_argument("--language", choices=("zh_CN", "en"), help="UI language for this run")
    return parser


def _fail(sentence: str) -> int:
    sys.stderr.write(sentence.rstrip() + "\n")
    return 1


def _open(msisdn: str) -> int:
    from agentdesk.app import AppOptions, ensure_app, run_gui
    from agentdesk.ui.screenpop import send_to_running

    digits = "".join(ch for ch in msisdn if ch.isdigit())
    if not digits:
        return _fail("--msisdn needs a phone number.")
    ensure_app()
    if send_to_running(digits):
        return 0
    return run_gui(AppOptions(open_msisdn=digits))


def _demo_folder() -> Path:
    from agentdesk.paths import Paths

    override = os.environ.get("AGENTDESK_DEMO_DIR")
    return Path(override) if override else Paths.from_env().data / "demo"


def _demo(args: argparse.Namespace) -> int:
    if args.smoke or (args.screenshot and not os.environ.get("DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from agentdesk.services.demo import DemoError, DemoService

    folder = _demo_folder()
    fresh = None
    if args.show == "first-sync":  # the user's cache in a folder of its own: never synced yet
        if args.smoke or not args.screenshot:
            return _fail(
                "--show first-sync goes with --screenshot only (its cache is thrown away)."
            )
        fresh = tempfile.mkdtemp(prefix="agentdesk-first-sync-")
        os.environ["AGENTDESK_DATA_DIR"] = fresh
    demo = DemoService(folder, args.port, args.customers)
    try:
        demo.prepare_folder()
        demo.check_port()
        demo.seed_if_needed()
        users = demo.users()
        if args.as_user not in users:
            return _fail(f"No demo user {args.as_user!r}; choose one of {', '.join(users)}.")
        demo.start_service()
        return _run_demo_gui(
            args, demo.url, users[args.as_user].username, users[args.as_user].password
        )
    except DemoError as exc:
        return _fail(str(exc))
    finally:
        demo.stop_service()
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)


def _run_demo_gui(args: argparse.Namespace, url: str, username: str, password: str) -> int:
    from agentdesk.app import AppOptions, run_gui
    from agentdesk.services.auth import AuthError
    from agentdesk.store import StoreError
    from agentdesk.ui.demo_driver import DemoDriver

    drivers: list[DemoDriver] = []
    scripted = bool(args.smoke or args.screenshot)

    def on_ready(desktop: object) -> None:
        if scripted:
            driver = DemoDriver(
                desktop, url, smoke=args.smoke, screenshot=args.screenshot, show=args.show
            )
            drivers.append(driver)
            driver.start()

    options = AppOptions(
        username=username,
        password=password,
        service_url=url,
        on_ready=on_ready,
        language=args.language,
        show=True,
    )
    try:
        code = run_gui(options)
    except AuthError as exc:
        return _fail(exc.sentence)
    except StoreError as exc:
        return _fail(exc.sentence)
    if drivers:
        return drivers[0].exit_code
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``agentdesk`` script."""
    multiprocessing.freeze_support()  # the compute worker process in a frozen (PyInstaller) build
    args = _parser().parse_args(argv)
    try:
        if args.command == "open":
            return _open(args.msisdn)
        if args.command == "demo":
            return _demo(args)
        from agentdesk.app import run_gui

        return run_gui()
    except KeyboardInterrupt:
        return 1
    except Exception as exc:  # the last line of defence: one sentence, never a traceback
        return _fail(f"agentdesk stopped: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
