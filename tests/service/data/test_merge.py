"""Customer merge (seed 002): candidates by the seed's rules, and a merge in one transaction."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Connection, text

from agentdesk_sync.cli import main
from agentdesk_sync.db.changes import LOCK_SEQUENCER
from agentdesk_sync.db.engine import make_engine
from agentdesk_sync.db.errors import DataInputError
from agentdesk_sync.merge import find_candidates, merge_customers
from agentdesk_sync.seed import seed_database
from tests.service.data.store_query import query

ANCHOR = date(2026, 11, 26)


def _json(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else orjson.loads(str(value))


@pytest.fixture
def seeded(db_url: str) -> str:
    seed_database(db_url, 1500, 11, anchor=ANCHOR)
    return db_url


def _same_person_pair(url: str) -> tuple[str, str]:
    pairs = [c for c in find_candidates(url) if "same_id" in c.reasons]
    assert pairs, "the seed has people registered twice"
    return pairs[0].keep, pairs[0].other


def test_candidates_follow_the_seed_rules(seeded: str) -> None:
    candidates = find_candidates(seeded)
    assert candidates
    for pair in candidates:
        select = "SELECT id_type, id_number, name, contact_address FROM customer WHERE customer_id"
        a, b = (query(seeded, f"{select} = '{cid}'")[0] for cid in (pair.keep, pair.other))
        same_id = a[:2] == b[:2]
        same_name_address = a[2:] == b[2:]
        assert ("same_id" in pair.reasons) == same_id
        assert ("same_name_address" in pair.reasons) == same_name_address
        assert pair.keep < pair.other


def test_merge_moves_everything_and_redirects(seeded: str) -> None:
    keep, other = _same_person_pair(seeded)
    count = f"SELECT count(*) FROM {{}} WHERE customer_id = '{other}'"
    before = {
        t: query(seeded, count.format(t))[0][0] for t in ("holding", "contact", "usage_month")
    }
    keep_contacts = query(seeded, f"SELECT count(*) FROM contact WHERE customer_id = '{keep}'")[0][
        0
    ]
    report = merge_customers(seeded, keep, other)
    assert report.moved.get("holding", 0) == before["holding"]
    assert report.moved.get("contact", 0) == before["contact"]
    for table in ("holding", "contact", "usage_month", "target_member", "marketing_order"):
        assert query(seeded, count.format(table)) == [(0,)]
    assert query(seeded, f"SELECT count(*) FROM customer WHERE customer_id = '{other}'") == [(0,)]
    after = query(seeded, f"SELECT count(*) FROM contact WHERE customer_id = '{keep}'")[0][0]
    assert after == keep_contacts + before["contact"]
    assert query(seeded, "SELECT old_id, new_id FROM customer_redirect") == [(other, keep)]
    log = query(seeded, "SELECT entity, entity_id, op, row FROM change_log ORDER BY server_seq")
    assert ("customer", other, "remove") in [(e, i, o) for e, i, o, _ in log]
    redirect = next(r for e, i, o, r in log if e == "redirect")
    assert _json(redirect) == {"new_id": keep}
    moved = [i for e, i, o, _ in log if e == "contact" and o == "put"]
    assert len(moved) == before["contact"]
    stamped = query(seeded, f"SELECT row_seq FROM customer WHERE customer_id = '{keep}'")[0][0]
    assert isinstance(stamped, int)
    assert stamped > 0
    phone = query(seeded, f"SELECT row FROM customer WHERE customer_id = '{keep}'")[0][0]
    assert _json(phone)["attributes"]["previous_numbers"]  # type: ignore[index]


def test_merge_sends_the_kept_customers_months_as_one_change(seeded: str) -> None:
    """The months KEEP lacks move over, a month both have keeps KEEP's row, and the feed says
    so in two changes: OTHER's months go, KEEP's whole set (oldest first) is put."""
    keep, other = _same_person_pair(seeded)
    months = "SELECT month, row FROM usage_month WHERE customer_id = '{}' ORDER BY month"
    kept = {m: _json(r) for m, r in query(seeded, months.format(keep))}
    moving = {m: _json(r) for m, r in query(seeded, months.format(other))}
    # one month only OTHER has, so that something moves whatever the seed gave them
    engine = make_engine(seeded)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM usage_month WHERE customer_id = :k AND month = :m"),
            {"k": keep, "m": max(moving)},
        )
    engine.dispose()
    kept.pop(max(moving), None)
    assert moving

    report = merge_customers(seeded, keep, other)

    expected = {**{m: {**r, "customer_id": keep} for m, r in moving.items()}, **kept}
    log = query(
        seeded, "SELECT entity, entity_id, op, row FROM change_log WHERE entity = 'usage_months'"
    )
    assert [(i, o) for _e, i, o, _r in log] == [(other, "remove"), (keep, "put")]
    assert _json(log[1][3]) == {
        "customer_id": keep,
        "months": [expected[m] for m in sorted(expected)],
    }
    assert {m: _json(r) for m, r in query(seeded, months.format(keep))} == expected
    assert report.moved["usage"] == len(set(moving) - set(kept))
    assert report.dropped.get("usage", 0) == len(set(moving) & set(kept))


def test_merge_refuses_unknown_or_same_ids(seeded: str) -> None:
    with pytest.raises(DataInputError, match="There is no customer C99999999"):
        merge_customers(seeded, "C00000001", "C99999999")
    with pytest.raises(DataInputError, match="same customer"):
        merge_customers(seeded, "C00000001", "C00000001")
    assert query(seeded, "SELECT count(*) FROM change_log") == [(0,)]


def test_cli_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    seed_database(url, 1500, 11, anchor=ANCHOR)
    assert main(["merge-candidates", "--db", url]) == 0
    out = capsys.readouterr().out
    keep, other = out.splitlines()[0].split("\t")[:2]
    assert main(["merge", keep, other, "--db", url]) == 0
    assert f"Merged {other} into {keep}" in capsys.readouterr().out
    assert main(["merge", keep, other, "--db", url]) == 1
    assert f"There is no customer {other}." in capsys.readouterr().err


def _wait_until_it_waits_for(conn: Connection) -> None:
    """Return once another session waits for a lock that ``conn`` holds."""
    # pg_locks is read afresh on every query (pg_stat_activity would be one snapshot per
    # transaction, and ``conn`` stays in its transaction)
    waiting = "SELECT count(*) FROM pg_locks WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
    pause = threading.Event()
    for _ in range(6000):  # a bound, so a broken merge fails the test instead of hanging it
        if conn.exec_driver_sql(waiting).scalar_one():
            return
        pause.wait(0.01)
    raise AssertionError("the merge never waited for the write group")


def test_a_merge_queues_behind_a_write_group_instead_of_deadlocking(pg_url: str) -> None:
    # PostgreSQL only: on SQLite a write transaction is exclusive, so there is no lock order
    seed_database(pg_url, 1500, 11, anchor=ANCHOR)
    keep, other = _same_person_pair(pg_url)
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["report"] = merge_customers(pg_url, keep, other)
        except Exception as exc:  # the test asserts there is none
            outcome["error"] = exc

    engine = make_engine(pg_url)
    try:
        with engine.connect() as group:  # stands for a write group of the service
            group.exec_driver_sql(LOCK_SEQUENCER)  # a group's first statement
            merging = threading.Thread(target=run)
            merging.start()
            _wait_until_it_waits_for(group)
            # the group goes on to the customers the merge changes, then commits
            group.execute(
                text("SELECT 1 FROM customer WHERE customer_id IN (:a, :b) FOR UPDATE"),
                {"a": keep, "b": other},
            )
            group.commit()
            merging.join()
    finally:
        engine.dispose()
    assert "error" not in outcome, outcome.get("error")
    assert query(pg_url, "SELECT old_id, new_id FROM customer_redirect") == [(other, keep)]
