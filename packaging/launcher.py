"""PyInstaller entry script: runs ``agentdesk.__main__:main`` (the console script's target).

In the frozen bundle ``sys.executable`` is this program, not a Python interpreter, yet the
desktop starts helpers as ``sys.executable -c "from agentdesk_sync.cli import main; main()"``
(the demo's local service). So, when frozen, ``-c CODE [ARGS...]`` runs CODE the way
``python -c`` would.
"""

from __future__ import annotations

import multiprocessing
import sys

from agentdesk.__main__ import main


def _run() -> int | None:
    multiprocessing.freeze_support()
    frozen = getattr(sys, "frozen", False)
    if frozen and len(sys.argv) > 2 and sys.argv[1] == "-c":
        code = sys.argv[2]
        sys.argv = ["-c", *sys.argv[3:]]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        return 0
    return main()


if __name__ == "__main__":
    sys.exit(_run())
