"""PyInstaller entry script: runs ``agentdesk.__main__:main`` (the console script's target)."""

from __future__ import annotations

import sys

from agentdesk.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
