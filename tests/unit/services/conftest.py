"""Fixtures of the service tests: the real central service in process (tests/ui/central.py)."""

from tests.ui.central import central  # noqa: F401  (fixture)
