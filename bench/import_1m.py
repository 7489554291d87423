"""`agentdesk-sync import customers FILE` at scale on PostgreSQL, beside its raw floors.

    .venv/bin/python -m bench.import_1m                       # 1,000,000 customers
    .venv/bin/python -m bench.import_1m --customers 100000    # the file's first 100,000
    .venv/bin/python -m bench.import_1m --src /tmp/old/sync   # another copy of agentdesk_sync

The customers CSV (``agentdesk-sync seed --customers 1000000 --seed 1 --anchor 2026-01-01
--csv``) is written once into the scratch folder and reused; a smaller ``--customers`` takes the
first lines of it. Each run starts a throwaway cluster (fsync on, ``shared_buffers`` 1 GB, as the
other PostgreSQL rows of the bench) in the scratch folder, migrates an empty store, imports the
file in a child process and reports:

* wall time of the import;
* the importer's CPU seconds (the child's rusage: every thread of it);
* PostgreSQL's CPU seconds (the postmaster and all its processes, live and exited, over the
  import: backends, checkpointer, WAL writer, autovacuum), and the same split by kind of process
  (sampled twice a second, so a process that exits may lose its last half second);
* the load average before and after (the machine is shared: compare ratios in one run);
* a fingerprint of the stored customers (count and a hash of their columns and row text), so two
  versions of the importer can be compared;
* the floors: PostgreSQL alone copying the final rows into a table without indexes (``row``
  as ``json``; backend CPU seconds of that ``COPY``), and Python alone parsing the CSV with the
  ``csv`` module (CPU seconds).

``--reimport`` imports the same file a second time (it must change nothing) and reports it too.
``--profile FILE`` records the import with py-spy (collapsed stacks, idle samples included, so
the main thread's waits for the writer threads show). The cluster and its data are
deleted at the end; the CSV is kept for the next run (delete the scratch folder when done).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.pgcluster import pg_cluster

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
TICK = os.sysconf("SC_CLK_TCK")
ANCHOR = "2026-01-01"
FULL = 1_000_000


def _csv_file(scratch: Path, customers: int) -> Path:
    full = scratch / f"customers-{FULL}.csv"
    if not full.exists() and not (scratch / f"customers-{customers}.csv").exists():
        part = full.with_suffix(".part")
        subprocess.run(
            [str(VENV / "agentdesk-sync"), "seed", "--customers", str(FULL), "--seed", "1",
             "--anchor", ANCHOR, "--csv", str(part)],
            check=True,
        )  # fmt: skip
        part.rename(full)
    if customers >= FULL:
        return full
    cut = scratch / f"customers-{customers}.csv"
    if not cut.exists():
        with full.open("rb") as src, cut.open("wb") as dst:
            for n, line in enumerate(src):
                if n > customers:
                    break
                dst.write(line)
    return cut


def _stat_cpu(pid: int) -> tuple[float, float, int]:
    """(own CPU, reaped children's CPU, parent pid) of a process, in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / TICK, (cutime + cstime) / TICK, int(fields[1])


def _server_cpu(postmaster: int) -> float:
    """CPU seconds of the postmaster and its processes (live ones and the exited it reaped)."""
    own, reaped, _ = _stat_cpu(postmaster)
    total = own + reaped
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cpu, _, parent = _stat_cpu(int(entry))
        except (OSError, ValueError):
            continue
        if parent == postmaster:
            total += cpu
    return total


def _kind(pid: int) -> str:
    """What a server process does, from its title (``postgres: imp … COPY`` → ``backend``)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    for kind in ("autovacuum", "checkpointer", "walwriter", "background writer", "parallel"):
        if kind in title:
            return kind
    return "backend" if "127.0.0.1" in title else "other"


class _Sampler(threading.Thread):
    """Samples the CPU of every server process twice a second, to split the server's CPU by
    kind of process (a process that exits loses at most its last half second)."""

    def __init__(self, postmaster: int) -> None:
        super().__init__(daemon=True)
        self.postmaster = postmaster
        self.seen: dict[int, tuple[str, float, float]] = {}  # pid: kind, first, last CPU
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.sample()

    def sample(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                cpu, _, parent = _stat_cpu(pid)
            except (OSError, ValueError):
                continue
            if parent != self.postmaster:
                continue
            kind, first, _last = self.seen.get(pid, (_kind(pid), cpu, cpu))
            self.seen[pid] = (kind, first, cpu)

    def split(self) -> str:
        self.done.set()
        self.sample()
        by: dict[str, float] = {}
        for kind, first, last in self.seen.values():
            by[kind] = by.get(kind, 0.0) + last - first
        return ", ".join(f"{k} {v:.1f}" for k, v in sorted(by.items(), key=lambda x: -x[1]))


def _postmaster(root: Path) -> int:
    return int((root / "data" / "postmaster.pid").read_text().split()[0])


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``cmd``; its wall seconds, CPU seconds (all threads) and output."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        print(out)
        raise SystemExit(f"{cmd[0]} failed with {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, out


def _fingerprint(conninfo: str) -> str:
    sql = (
        "SELECT count(*), sum(('x' || substr(md5(concat_ws(E'\\t', customer_id, msisdn, name,"
        " id_type, id_number, region_code, segment_id, account_manager_id, contact_address,"
        " row::text)), 1, 15))::bit(60)::bigint), pg_size_pretty(pg_total_relation_size("
        "'customer')), (SELECT count(*) FROM change_log) FROM customer"
    )
    with psycopg.connect(conninfo) as conn:
        count, digest, size, log = conn.execute(sql).fetchone()  # type: ignore[misc]
    return f"customers={count} hash={int(digest or 0):x} size={size} change_log={log}"


def _copy_floor(conninfo: str) -> float:
    """Backend CPU seconds of PostgreSQL copying the stored rows into an unindexed table."""
    cols = ("customer_id, msisdn, name, id_type, id_number, region_code, segment_id,"
            " account_manager_id, contact_address, updated_at, row, row_seq")  # fmt: skip
    with psycopg.connect(conninfo) as src, psycopg.connect(conninfo) as dst:
        dst.execute(
            "CREATE TABLE IF NOT EXISTS floor_customer (customer_id text, msisdn text,"
            " name text, id_type text, id_number text, region_code text, segment_id text,"
            " account_manager_id text, contact_address text, updated_at timestamptz, row json,"
            " row_seq bigint)"
        )
        dst.execute("SET default_toast_compression = 'lz4'")
        dst.commit()
        pid = dst.info.backend_pid
        before = _stat_cpu(pid)[0]
        with (
            src.cursor().copy(f"COPY customer ({cols}) TO STDOUT") as out,
            dst.cursor().copy(f"COPY floor_customer ({cols}) FROM STDIN") as into,
        ):
            for block in out:
                into.write(block)
        dst.commit()
        cpu = _stat_cpu(pid)[0] - before
        dst.execute("DROP TABLE floor_customer")
        dst.commit()
    return cpu


def _parse_floor(path: Path) -> float:
    start = time.process_time()
    with path.open(encoding="utf-8", newline="") as handle:
        for _ in csv.reader(handle):
            pass
    return time.process_time() - start


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _import(args: argparse.Namespace, cluster: Any, path: Path, env: dict[str, str], tag: str
            ) -> None:  # fmt: skip
    url = cluster.url("imp")
    cmd = [str(VENV / "agentdesk-sync"), "import", "customers", str(path), "--db", url]
    if args.profile and tag == "import":
        cmd = [str(VENV / "py-spy"), "record", "-r", "50", "-f", "raw", "--idle", "-o",
               args.profile, "--", *cmd]  # fmt: skip
    postmaster = _postmaster(cluster.root)
    load = _load()
    server = _server_cpu(postmaster)
    sampler = _Sampler(postmaster)
    sampler.sample()
    sampler.start()
    wall, cpu, out = _run(cmd, env)
    server = _server_cpu(postmaster) - server
    split = sampler.split()
    summary = [x for x in out.splitlines() if "imported=" in x]
    said = summary[-1] if summary else out[-300:]
    print(f"{tag}: wall {wall:.1f} s, importer {cpu:.1f} CPU-s, PostgreSQL {server:.1f} CPU-s;"
          f" load before {load}, after {_load()}; {said}")  # fmt: skip
    print(f"  PostgreSQL CPU-s by process (sampled every 0.5 s): {split}")
    sys.stdout.flush()


def main() -> None:
    """Run the measurement (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=FULL)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/adbench-import"))
    parser.add_argument("--src", help="a sync/ folder whose agentdesk_sync is imported instead")
    parser.add_argument("--reimport", action="store_true", help="import the file a second time")
    parser.add_argument("--profile", help="py-spy output file (collapsed stacks)")
    parser.add_argument("--no-floors", action="store_true")
    args = parser.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)
    path = _csv_file(args.scratch, min(args.customers, FULL))
    env = dict(os.environ)
    if args.src:
        env["PYTHONPATH"] = os.pathsep.join([args.src, env.get("PYTHONPATH", "")]).strip(":")
    free = shutil.disk_usage(args.scratch).free / 1e9
    print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB; {free:.0f} GB free;"
          f" importer from {args.src or 'the working tree'}")  # fmt: skip
    with pg_cluster(parent=args.scratch) as cluster:
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE imp")
        subprocess.run([str(VENV / "agentdesk-sync"), "migrate", "--db", cluster.url("imp")],
                       check=True, env=env, capture_output=True)  # fmt: skip
        _import(args, cluster, path, env, "import")
        print("stored:", _fingerprint(cluster.conninfo("imp")))
        if args.reimport:
            _import(args, cluster, path, env, "reimport")
            print("stored:", _fingerprint(cluster.conninfo("imp")))
        if not args.no_floors:
            load = _load()
            copy = _copy_floor(cluster.conninfo("imp"))
            parse = _parse_floor(path)
            print(f"floors: PostgreSQL COPY of the final rows into an unindexed json table"
                  f" {copy:.1f} CPU-s; csv module parsing the file {parse:.1f} CPU-s;"
                  f" load before {load}, after {_load()}")  # fmt: skip


if __name__ == "__main__":
    main()
