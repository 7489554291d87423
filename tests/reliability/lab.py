"""The reliability lab: a central store, the real service, the fault proxy, and client processes.

Client processes are forked from a multiprocessing fork server that imported the driver once,
so a ``kill -9`` iteration costs milliseconds of start-up instead of seconds of imports. Each
child is still its own process running the real store and engine.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.faultproxy import FaultProxy
from tests.reliability.checker import DeviceHistory, Verdict, check, read_device
from tests.reliability.client_proc import DriverArgs, child_main
from tests.reliability.service import ServiceProcess
from tests.reliability.world import ledger, prepare_central

__all__ = ["Lab"]

_CTX = multiprocessing.get_context("forkserver")
_CTX.set_forkserver_preload(["tests.reliability.client_proc", "agentdesk.store.migrate"])


class Lab:
    """Everything one scenario runs against.

    Args:
        workdir: a fresh folder for the central DB, caches and logs.
        customers: customers to create in the central store.
        db_url: the central store (a SQLite file in ``workdir`` by default).
        seed: seed of the proxy.
    """

    def __init__(
        self, workdir: Path, *, customers: int = 60, db_url: str | None = None, seed: int = 0
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.db_url = db_url or f"sqlite:///{workdir / 'central.db'}"
        self.customers = prepare_central(self.db_url, customers=customers)
        self.service = ServiceProcess(self.db_url, workdir / "service.log").start()
        self.proxy = FaultProxy("127.0.0.1", self.service.port, seed=seed).start()
        self.devices: set[str] = set()
        self.crashes = 0
        self.unexpected_exits: list[int | None] = []

    def close(self) -> None:
        """Stop the proxy and the service."""
        self.proxy.stop()
        self.service.stop()

    # -- client processes ---------------------------------------------------------------------

    def args(self, device: str, **kwargs: Any) -> DriverArgs:
        """Driver arguments for ``device`` (its cache and log live in the workdir)."""
        self.devices.add(device)
        base = DriverArgs(
            cache=str(self.workdir / f"{device}.db"),
            log=str(self.workdir / f"{device}.log"),
            url=self.proxy.url,
            device_id=device,
            marker=device,
            customers=self.customers[:10],
        )
        return replace(base, **kwargs)

    def start(self, args: DriverArgs) -> multiprocessing.process.BaseProcess:
        """Start a driver process."""
        process = _CTX.Process(target=child_main, args=(args,), daemon=True)
        process.start()
        return process

    def run(self, args: DriverArgs, timeout: float = 120.0) -> int | None:
        """Run a driver to its end (killed after ``timeout``); returns its exit code."""
        process = self.start(args)
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
        return self._exited(process.exitcode, killed=False)

    def kill_when(
        self, args: DriverArgs, ready: Callable[[str], bool], delay: float, timeout: float = 60.0
    ) -> int | None:
        """Start a driver, wait until ``ready(log text)`` holds, wait ``delay`` s, ``kill -9``."""
        log = Path(args.log)
        before = log.read_text() if log.exists() else ""
        process = self.start(args)
        deadline = time.monotonic() + timeout
        while process.is_alive() and time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if ready(text[len(before) :]):
                break
            time.sleep(0.005)
        time.sleep(delay)
        process.kill()
        process.join()
        return self._exited(process.exitcode, killed=True)

    def finished(self, process: multiprocessing.process.BaseProcess) -> None:
        """Book the end of a process started with :meth:`start` and joined by the caller."""
        self._exited(process.exitcode, killed=False)

    def _exited(self, code: int | None, *, killed: bool) -> int | None:
        """Count crash-point exits; remember exits that are neither normal nor planned."""
        self.crashes += code == 86
        planned = {0, 86, -9} if killed else {0, 86}
        if code not in planned:
            self.unexpected_exits.append(code)
            if len(self.unexpected_exits) >= 5:
                raise RuntimeError(f"client processes keep failing (exit codes {code}); see logs")
        return code

    def drain(self, devices: list[str] | None = None) -> None:
        """Quiesce: every device syncs until its outbox is empty (no faults)."""
        self.proxy.clear()
        for device in sorted(devices or self.devices):
            self.run(self.args(device, rounds=0, drain=True))

    # -- checking -----------------------------------------------------------------------------

    def histories(self) -> list[DeviceHistory]:
        """Every device's history."""
        return [
            read_device(d, self.workdir / f"{d}.db", self.workdir / f"{d}.log")
            for d in sorted(self.devices)
        ]

    def verdict(self, scenario: str, iterations: int, **kwargs: Any) -> Verdict:
        """Check every device against the ledger."""
        verdict = check(scenario, iterations, self.histories(), ledger(self.db_url), **kwargs)
        verdict.notes["crash_points_hit"] = self.crashes
        verdict.unexpected_exits = list(self.unexpected_exits)
        verdict.notes["proxy"] = {
            "connections": self.proxy.stats.connections,
            "cuts": self.proxy.stats.cuts,
            "resets": self.proxy.stats.resets,
        }
        (self.workdir / f"{scenario}.json").write_text(verdict.details())
        return verdict
