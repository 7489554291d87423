"""The reliability scenarios of docs/sync.md: R1 kill -9, R3 lost responses, R4 network chaos,
R7 offline contacts against caps. Each returns a :class:`Verdict` after quiescing."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.reliability.checker import Verdict
from tests.reliability.lab import Lab

__all__ = ["SCENARIOS", "kill9_points", "kill9_random", "network_chaos", "offline_conflicts",
           "response_cut"]  # fmt: skip

ENGINE_POINTS = (
    "before_push",
    "after_push_response",
    "after_local_ack",
    "mid_snapshot_page",
    "mid_delta_apply",
)
POINTS = ("after_local_commit", "after_server_commit", *ENGINE_POINTS)


def _ready(text: str) -> bool:
    return "ready" in text


def kill9_random(lab: Lab, iterations: int, rng: random.Random) -> Verdict:
    """R1, random half: SIGKILL a recording-and-syncing client at a random moment."""
    devices = ["r0", "r1", "r2"]
    for i in range(iterations):
        args = lab.args(
            devices[i % len(devices)],
            rounds=rng.randint(1, 4),
            per_round=rng.randint(1, 6),
            seed=rng.randrange(2**32),
        )
        if rng.random() < 0.1:  # sometimes during start-up (cache open, migrations, login)
            lab.kill_when(args, lambda _t: True, rng.uniform(0.0, 0.2))
        else:
            lab.kill_when(args, _ready, rng.uniform(0.0, 0.6))
    lab.drain(devices)
    return lab.verdict("kill9_random", iterations)


def _one_point(lab: Lab, point: str, i: int, rng: random.Random) -> None:
    seed = rng.randrange(2**32)
    if point == "after_local_commit":
        args = lab.args("p0", rounds=2, per_round=2, seed=seed)
        lab.kill_when(args, lambda t: "saved" in t, 0.0)
    elif point == "after_server_commit":
        lab.proxy.cut_responses(1.0)
        lab.run(lab.args("p1", rounds=1, per_round=3, seed=seed))
        lab.proxy.clear()
    elif point == "mid_snapshot_page":
        device = f"s{i}"  # a new device: its first pull is a snapshot in small pages
        env = {"AGENTDESK_CRASH_AT": point, "AGENTDESK_CRASH_HIT": str(rng.randint(1, 3))}
        lab.run(lab.args(device, rounds=1, per_round=1, pull_limit=4, env=env, seed=seed))
        lab.run(lab.args(device, rounds=0, drain=True, pull_limit=4))
    else:
        env = {"AGENTDESK_CRASH_AT": point, "AGENTDESK_CRASH_HIT": str(rng.randint(1, 2))}
        lab.run(lab.args("p2", rounds=2, per_round=2, env=env, seed=seed))


def kill9_points(lab: Lab, iterations: int, rng: random.Random) -> Verdict:
    """R1, targeted half: die at each crash point in turn, then restart and drain."""
    for i in range(iterations):
        _one_point(lab, POINTS[i % len(POINTS)], i, rng)
    lab.drain()
    return lab.verdict("kill9_points", iterations)


def response_cut(lab: Lab, iterations: int, rng: random.Random) -> Verdict:
    """R3: every push answer is cut after the server committed, for a while; then recover."""
    devices = ["c0", "c1"]
    lab.proxy.cut_responses(1.0)
    for i in range(iterations):
        args = lab.args(devices[i % 2], rounds=1, per_round=rng.randint(1, 5),
                        seed=rng.randrange(2**32))  # fmt: skip
        lab.run(args)
    lab.drain(devices)
    return lab.verdict("response_cut", iterations)


def _toxics(lab: Lab) -> list[tuple[str, Callable[[], None]]]:
    proxy = lab.proxy
    return [
        ("latency", lambda: proxy.latency(100, 50)),
        ("bandwidth", lambda: proxy.bandwidth(32 * 1024)),
        ("slicer", lambda: proxy.slicer(1, 64, 0.05)),
        ("reset_peer", proxy.reset_peer),
        ("blackhole", proxy.blackhole),
        ("down", proxy.down),
    ]


def network_chaos(lab: Lab, iterations: int, rng: random.Random) -> Verdict:
    """R4: latency, bandwidth, slicer, resets, blackhole and outages while clients sync."""
    toxics = _toxics(lab)
    devices = ["n0", "n1"]
    for i in range(iterations):
        _name, apply = toxics[i % len(toxics)]
        args = lab.args(devices[i % 2], rounds=2, per_round=rng.randint(1, 4),
                        read_timeout=1.0, seed=rng.randrange(2**32))  # fmt: skip
        apply()
        process = lab.start(args)
        process.join(rng.uniform(0.2, 1.0))
        lab.proxy.clear()
        process.join(60)
        if process.is_alive():  # a hang: booked as an unexpected exit
            process.kill()
            process.join()
        lab.finished(process)
    lab.drain(devices)
    return lab.verdict("network_chaos", iterations)


def _daytime(days_ago: int, hour_utc: int) -> str:
    """A moment outside quiet hours in China (UTC+8): ``hour_utc`` 01–12 is 09–20 local."""
    day = datetime.now(UTC).replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return (day - timedelta(days=days_ago)).isoformat()


def offline_conflicts(lab: Lab, iterations: int, rng: random.Random) -> Verdict:
    """R7: a device offline logs calls that break caps set by an online device; on reconnect
    every one must come back ``applied_with_conflict`` within one cycle, none rejected."""
    expected: list[str] = []
    for i in range(iterations):
        customer = [lab.customers[20 + i]]
        offline = lab.args("off", user="cc2", online=False, rounds=1, per_round=1,
                           channel="outbound_call", customers=customer,
                           started_at=_daytime(1, 3), intents_out_of_scope=1,
                           seed=rng.randrange(2**32))  # fmt: skip
        log_before = Path(offline.log).read_text() if Path(offline.log).exists() else ""
        lab.run(offline)
        lab.run(lab.args("on", user="cc1", rounds=1, per_round=1, channel="outbound_call",
                         customers=customer, started_at=_daytime(1, 2)))  # fmt: skip
        lab.run(lab.args("off", user="cc2", rounds=0, drain=True, max_drain_cycles=1))
        new = Path(offline.log).read_text()[len(log_before) :]
        expected += [line.split()[1] for line in new.splitlines() if line.startswith("saved ")]
    lab.drain()
    verdict = lab.verdict("offline_conflicts", iterations, expected_conflicts=expected)
    off = next(h for h in lab.histories() if h.name == "off")
    verdict.notes["rejected_intents_visible"] = off.rejected_visible
    verdict.notes["intents_queued"] = iterations
    return verdict


SCENARIOS: dict[str, Callable[[Lab, int, random.Random], Verdict]] = {
    "kill9_random": kill9_random,
    "kill9_points": kill9_points,
    "response_cut": response_cut,
    "network_chaos": network_chaos,
    "offline_conflicts": offline_conflicts,
}


def run_scenario(
    name: str, iterations: int, seed: int, workdir: Path, db_url: str | None = None
) -> Verdict:
    """Run one scenario in a fresh lab under ``workdir / name``."""
    lab = Lab(workdir / name, customers=40 + iterations, db_url=db_url, seed=seed)
    started = time.monotonic()
    try:
        verdict = SCENARIOS[name](lab, iterations, random.Random(seed))
    finally:
        lab.close()
    verdict.notes["seconds"] = round(time.monotonic() - started, 1)
    (lab.workdir / f"{name}.json").write_text(verdict.details())
    return verdict
