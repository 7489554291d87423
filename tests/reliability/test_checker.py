"""The checker itself: it must notice a loss, a duplicate and a cursor going backwards."""

from __future__ import annotations

from tests.reliability.checker import DeviceHistory, check
from tests.reliability.world import LedgerRow


def _device(**kw: object) -> DeviceHistory:
    device = DeviceHistory("d")
    for key, value in kw.items():
        setattr(device, key, value)
    return device


def test_clean_history_passes() -> None:
    device = _device(committed={"a": "d:0"}, saved={"a": "d:0"}, cursor_seqs=[1, 1, 4])
    verdict = check("s", 1, [device], [LedgerRow("a", "C1", "d:0", "applied")])
    assert verdict.ok
    assert (
        verdict.line()
        == "scenario=s iterations=1 acked=1 lost=0 duplicated=0 conflicts_flagged=0/0"
    )


def test_a_saved_contact_missing_on_the_server_is_lost() -> None:
    device = _device(saved={"a": "d:0", "b": "d:1"}, committed={"a": "d:0"})
    verdict = check("s", 1, [device], [LedgerRow("a", "C1", "d:0", "applied")])
    assert verdict.lost == ["b"]
    assert not verdict.ok


def test_one_logical_contact_twice_on_the_server_is_a_duplicate() -> None:
    device = _device(committed={"a": "d:0", "b": "d:0"})
    rows = [LedgerRow("a", "C1", "d:0", "applied"), LedgerRow("b", "C1", "d:0", "applied")]
    verdict = check("s", 1, [device], rows)
    assert verdict.duplicated == ["d:0"]


def test_cursor_moving_backwards_and_unflagged_conflicts_fail() -> None:
    device = _device(committed={"a": "d:0"}, states={"a": "inflight"}, cursor_seqs=[5, 3])
    verdict = check("s", 1, [device], [LedgerRow("a", "C1", "d:0", "applied")],
                    expected_conflicts=["a"])  # fmt: skip
    assert verdict.cursor_backwards == ["d"]
    assert verdict.conflicts_flagged == 0
    assert not verdict.ok
