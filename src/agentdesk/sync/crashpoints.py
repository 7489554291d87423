"""Test-only crash points: ``os._exit`` at a named step of the sync cycle (docs/sync.md).

Set ``AGENTDESK_CRASH_AT=<point>`` (optionally ``AGENTDESK_CRASH_HIT=<n>``, default 1: the n-th
time the point is reached) in the environment of a client process to make it die there as a
``kill -9`` would: no ``finally`` blocks, no flush, no atexit. When the variable is unset,
:func:`crash_hook_from_env` returns None and the engine skips every check, so production pays
nothing. Points:

- ``before_push``: items marked in flight, push not yet sent (after local commit, before push)
- ``after_push_response``: the service answered the push, nothing recorded locally yet
- ``after_local_ack``: push results recorded locally, pull not started
- ``mid_snapshot_page``: inside the transaction applying a snapshot page
- ``mid_delta_apply``: inside the transaction applying a page of the change feed
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

__all__ = ["CRASH_EXIT_CODE", "CRASH_POINTS", "CrashHook", "crash_hook_from_env"]

CRASH_EXIT_CODE = 86
CRASH_POINTS = (
    "before_push",
    "after_push_response",
    "after_local_ack",
    "mid_snapshot_page",
    "mid_delta_apply",
)

CrashHook = Callable[[str], None]


def crash_hook_from_env(environ: Mapping[str, str] | None = None) -> CrashHook | None:
    """A hook that exits the process at the configured point, or None when none is configured.

    Args:
        environ: the environment to read (``os.environ`` by default).

    Raises:
        ValueError: the configured point is not one of :data:`CRASH_POINTS`.
    """
    env = os.environ if environ is None else environ
    point = env.get("AGENTDESK_CRASH_AT", "")
    if not point:
        return None
    if point not in CRASH_POINTS:
        raise ValueError(f"unknown crash point {point!r}")
    remaining = [int(env.get("AGENTDESK_CRASH_HIT", "1"))]

    def hook(name: str) -> None:
        if name != point:
            return
        remaining[0] -= 1
        if remaining[0] <= 0:
            os._exit(CRASH_EXIT_CODE)

    return hook
