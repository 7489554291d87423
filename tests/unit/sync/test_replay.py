"""R5: duplicate and reordered delivery (docs/sync.md).

A Hypothesis state machine drives several devices against the REAL service app in-process
(``ApiClient(client=TestClient(app))`` on SQLite). Devices record contacts and push their
batches in order; any batch may be delivered again later (1–5 times), and devices interleave
freely. Whatever the schedule, the server must end in the state of one in-order delivery:
every contact stored exactly once with its payload, every replay answered ``duplicate`` with
the original ``server_seq``.

The default run is small; ``--hypothesis-profile=full`` (see conftest.py) runs 10,000 cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from agentdesk.protocol import PushItem
from agentdesk.store.codec import new_id
from agentdesk.sync import ApiClient
from agentdesk_sync.app import create_app
from tests.reliability.world import customer_ids, ledger, prepare_central

DEVICES = (("dev-a", "cc1"), ("dev-b", "cc1"), ("dev-c", "cc2"))
CUSTOMERS = customer_ids(6)


def _examples() -> int:
    return 10_000 if settings.get_current_profile_name() == "full" else 15


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, ApiClient]]]:
    folder: Path = tmp_path_factory.mktemp("r5")
    url = f"sqlite:///{folder / 'central.db'}"
    prepare_central(url, customers=len(CUSTOMERS))
    with TestClient(create_app(url)) as http:
        clients = {}
        for device, user in DEVICES:
            api = ApiClient(client=http)
            api.login(user, f"pw-{user}", device)
            clients[device] = ApiClient(client=http, token=api.token)
        yield url, clients


def _contact(item_id: str, customer: str, note: str) -> dict[str, object]:
    started = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    return {
        "contact_id": item_id, "customer_id": customer, "channel": "inbound_call",
        "started_at": started.isoformat().replace("+00:00", "Z"),
        "ended_at": (started + timedelta(minutes=4)).isoformat().replace("+00:00", "Z"),
        "result_code": "reached_no_offer", "note": note,
    }  # fmt: skip


def test_replays_and_interleavings_end_in_the_in_order_state(
    service: tuple[str, dict[str, ApiClient]],
) -> None:
    url, clients = service

    class Replay(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.seq = {device: 0 for device, _ in DEVICES}
            self.pending: dict[str, list[PushItem]] = {device: [] for device, _ in DEVICES}
            self.sent: dict[str, list[list[PushItem]]] = {device: [] for device, _ in DEVICES}
            self.first: dict[str, tuple[str, int | None]] = {}  # id -> (status, server_seq)
            self.expected: dict[str, tuple[str, str]] = {}  # id -> (customer, note)

        @rule(device=st.sampled_from([d for d, _ in DEVICES]),
              customer=st.sampled_from(CUSTOMERS), size=st.integers(1, 3))  # fmt: skip
        def record(self, device: str, customer: str, size: int) -> None:
            for _ in range(size):
                self.seq[device] += 1
                item_id = new_id()
                note = f"{device}:{self.seq[device]}"
                payload = _contact(item_id, customer, note)
                item = PushItem(id=item_id, seq=self.seq[device], kind="contact", schema=1,
                                payload=payload)  # fmt: skip
                self.pending[device].append(item)
                self.expected[item_id] = (customer, note)

        @rule(device=st.sampled_from([d for d, _ in DEVICES]))
        def deliver(self, device: str) -> None:
            batch, self.pending[device] = self.pending[device], []
            if not batch:
                return
            answer = clients[device].push(device, batch)
            for result in answer.results:
                assert result.status == "applied", result
                assert result.server_seq is not None
                assert result.server_seq <= answer.write_checkpoint
                self.first[result.id] = (result.status, result.server_seq)
            self.sent[device].append(batch)

        @rule(device=st.sampled_from([d for d, _ in DEVICES]), pick=st.integers(0, 1000),
              times=st.integers(1, 5))  # fmt: skip
        def replay(self, device: str, pick: int, times: int) -> None:
            if not self.sent[device]:
                return
            batch = self.sent[device][pick % len(self.sent[device])]
            for _ in range(times):
                answer = clients[device].push(device, batch)
                for result in answer.results:
                    assert result.status == "duplicate", result
                    assert result.server_seq == self.first[result.id][1]

        @invariant()
        def delivered_items_are_stored_once(self) -> None:
            assert len(self.first) == len(set(self.first))

        def teardown(self) -> None:
            for device, _ in DEVICES:
                self.deliver(device)
            rows = [r for r in ledger(url) if r.contact_id in self.expected]
            stored = {r.contact_id: (r.customer_id, r.note) for r in rows}
            assert len(rows) == len(stored) == len(self.expected)
            assert stored == self.expected
            assert {r.status for r in rows} <= {"applied"}

    run_state_machine_as_test(
        Replay,
        settings=settings(
            max_examples=_examples(),
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_same_id_with_another_payload_is_rejected_not_stored_twice(
    service: tuple[str, dict[str, ApiClient]],
) -> None:
    url, clients = service
    item_id = new_id()
    first = PushItem(id=item_id, seq=1, kind="contact", schema=1,
                     payload=_contact(item_id, CUSTOMERS[0], "reuse:1"))  # fmt: skip
    changed = PushItem(id=item_id, seq=1, kind="contact", schema=1,
                       payload=_contact(item_id, CUSTOMERS[0], "reuse:2"))  # fmt: skip
    assert clients["dev-a"].push("dev-a", [first]).results[0].status == "applied"
    answer = clients["dev-a"].push("dev-a", [changed]).results[0]
    assert answer.status == "rejected"
    assert answer.error is not None
    assert answer.error.code == "idempotency_key_reuse"
    assert [r.note for r in ledger(url) if r.contact_id == item_id] == ["reuse:1"]
