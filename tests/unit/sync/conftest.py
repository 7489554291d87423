"""Hypothesis profiles of the sync tests.

``full`` runs the R5 replay test with ≥ 10,000 generated cases::

    .venv/bin/pytest tests/unit/sync/test_replay.py --hypothesis-profile=full
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "full",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
