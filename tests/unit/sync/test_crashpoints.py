"""Crash points: off unless configured, and they really end the process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentdesk.sync.crashpoints import CRASH_EXIT_CODE, crash_hook_from_env


def test_no_hook_when_unset() -> None:
    assert crash_hook_from_env({}) is None


def test_unknown_point_is_refused() -> None:
    with pytest.raises(ValueError):
        crash_hook_from_env({"AGENTDESK_CRASH_AT": "nowhere"})


def test_the_nth_hit_exits_without_cleanup() -> None:
    code = (
        "from agentdesk.sync.crashpoints import crash_hook_from_env\n"
        "import atexit\n"
        "atexit.register(lambda: print('cleanup'))\n"
        "hook = crash_hook_from_env({'AGENTDESK_CRASH_AT': 'before_push',"
        " 'AGENTDESK_CRASH_HIT': '2'})\n"
        "hook('after_local_ack'); hook('before_push'); print('first', flush=True)\n"
        "hook('before_push'); print('second')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == CRASH_EXIT_CODE
    assert done.stdout.split() == ["first"]
