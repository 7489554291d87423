"""Two desktops on one service: a contact logged on A reaches B, woken by the server's
``change`` event (B's periodic sync is off), over real HTTP and SSE."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import Central
from tests.reliability.propagation import measure, open_device


def test_a_contact_logged_on_one_desktop_shows_on_the_other(
    central: Central, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    url = central.service.url
    a = open_device(tmp_path, "A", "cc1", url, debounce=0.0, interval=3600)
    b = open_device(tmp_path, "B", "cc2", url, debounce=0.0, interval=3600)
    try:
        latencies = measure(a, b, central.customers, 3)
    finally:
        a.close()
        b.close()
    record_property("propagation_s", [round(v, 3) for v in latencies])
    assert len(latencies) == 3


@pytest.mark.parametrize("user", ["cc2"])
def test_each_side_sees_the_others_contacts(central: Central, tmp_path: Path, user: str) -> None:
    a = open_device(tmp_path, "A2", "cc1", central.service.url, debounce=0.0, interval=3600)
    b = open_device(tmp_path, "B2", user, central.service.url, debounce=0.0, interval=3600)
    try:
        measure(a, b, central.customers, 1)
        measure(b, a, central.customers[5:], 1)
    finally:
        a.close()
        b.close()
