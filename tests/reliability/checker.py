"""A Jepsen-style checker: every locally committed contact must be on the server exactly once.

Inputs: the client cache files (their outbox is the record of what was committed locally), the
driver logs (ids reported as saved, cursors seen), and the central ledger. Output fields follow
Jepsen's ``set-full``: ``lost`` (committed locally, missing on the server after quiesce),
``duplicated`` (more than one ledger row for one logical contact, by id or by payload marker),
plus ``PRAGMA integrity_check`` of every cache and "the cursor never moved backwards".
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.world import LedgerRow

__all__ = ["DeviceHistory", "Verdict", "check", "read_device"]


@dataclass
class DeviceHistory:
    """What one device (cache file + its driver log) says happened."""

    name: str
    committed: dict[str, str] = field(default_factory=dict)  # contact id -> marker
    states: dict[str, str] = field(default_factory=dict)  # outbox id -> state
    results: dict[str, str] = field(default_factory=dict)  # outbox id -> last push status
    saved: dict[str, str] = field(default_factory=dict)  # ids the driver reported as saved
    cursor_seqs: list[int] = field(default_factory=list)
    drained: list[int] = field(default_factory=list)
    integrity: str = "ok"
    rejected_visible: int = 0
    rejected_facts: int = 0
    waiting: int = 0


def read_device(name: str, cache: Path, log: Path) -> DeviceHistory:
    """Read a device's cache file and driver log (after its processes are gone)."""
    history = DeviceHistory(name)
    _read_log(history, log)
    if not cache.exists():
        return history
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        history.integrity = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        rows = conn.execute(
            "SELECT id, kind, state, json_extract(payload, '$.note'), "
            "json_extract(result, '$.status'), dismissed_at FROM outbox"
        ).fetchall()
    finally:
        conn.close()
    for id_, kind, state, note, status, dismissed in rows:
        history.states[id_] = state
        history.results[id_] = status or ""
        if kind == "contact":
            history.committed[id_] = note or ""
            history.rejected_facts += state == "rejected"
        elif state == "rejected" and dismissed is None:
            history.rejected_visible += 1
        history.waiting += state in ("pending", "inflight") and status not in (
            "applied",
            "duplicate",
        )
    return history


def _read_log(history: DeviceHistory, log: Path) -> None:
    if not log.exists():
        return
    for line in log.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "saved" and len(parts) == 3:
            history.saved[parts[1]] = parts[2]
        elif parts[0] == "cursor" and len(parts) == 3:
            history.cursor_seqs.append(int(parts[2]))
        elif parts[0] == "drained" and len(parts) == 2:
            history.drained.append(int(parts[1]))


@dataclass
class Verdict:
    """The checker's result for one scenario."""

    scenario: str
    iterations: int
    acked: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    integrity_failures: list[str] = field(default_factory=list)
    cursor_backwards: list[str] = field(default_factory=list)
    conflicts_flagged: int = 0
    conflicts_expected: int = 0
    rejected_facts: int = 0
    unexpected_exits: list[int | None] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Work was done; no loss, no duplicate, no failed client, caches intact, cursors
        monotonic, every conflict flagged."""
        return self.acked > 0 and not (
            self.unexpected_exits
            or self.lost
            or self.duplicated
            or self.integrity_failures
            or self.cursor_backwards
            or self.rejected_facts
            or self.conflicts_flagged != self.conflicts_expected
        )

    def line(self) -> str:
        """The one summary line of the scenario."""
        return (
            f"scenario={self.scenario} iterations={self.iterations} acked={self.acked} "
            f"lost={len(self.lost)} duplicated={len(self.duplicated)} "
            f"conflicts_flagged={self.conflicts_flagged}/{self.conflicts_expected}"
        )

    def details(self) -> str:
        """Everything, as JSON (for the run's report file)."""
        return json.dumps(self.__dict__ | {"ok": self.ok}, indent=2, default=str)


def check(
    scenario: str,
    iterations: int,
    devices: Iterable[DeviceHistory],
    ledger_rows: list[LedgerRow],
    *,
    expected_conflicts: Iterable[str] = (),
) -> Verdict:
    """Compare what the devices committed with the server ledger.

    Args:
        scenario: the scenario name.
        iterations: how many iterations ran.
        devices: the histories of every device of the scenario.
        ledger_rows: the central ledger after quiesce.
        expected_conflicts: contact ids that break policy by construction.

    Returns:
        The verdict.
    """
    verdict = Verdict(scenario, iterations)
    on_server = Counter(row.contact_id for row in ledger_rows)
    by_marker = Counter(row.note for row in ledger_rows if row.note)
    status = {row.contact_id: row.status for row in ledger_rows}
    devices = list(devices)
    committed: dict[str, str] = {}
    for device in devices:
        committed |= device.committed | device.saved
        if device.integrity != "ok":
            verdict.integrity_failures.append(f"{device.name}: {device.integrity}")
        if any(b < a for a, b in zip(device.cursor_seqs, device.cursor_seqs[1:], strict=False)):
            verdict.cursor_backwards.append(device.name)
        verdict.rejected_facts += device.rejected_facts
    verdict.lost = sorted(cid for cid in committed if cid not in on_server)
    verdict.acked = sum(1 for cid in committed if cid in on_server)
    verdict.duplicated = sorted(
        [cid for cid, n in on_server.items() if n > 1]
        + [marker for marker, n in by_marker.items() if n > 1]
    )
    expected = set(expected_conflicts)
    states = {k: v for d in devices for k, v in d.states.items()}
    verdict.conflicts_expected = len(expected)
    verdict.conflicts_flagged = sum(
        1
        for cid in expected
        if states.get(cid) == "conflict" and status.get(cid) == "applied_with_conflict"
    )
    verdict.notes["max_drain_cycles"] = max((c for d in devices for c in d.drained), default=0)
    verdict.notes["duplicate_answers"] = sum(
        1 for d in devices for s in d.results.values() if s == "duplicate"
    )
    verdict.notes["still_waiting"] = sum(d.waiting for d in devices)
    return verdict
