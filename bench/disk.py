"""Disk space a run takes beyond its cached data sets: sampled while it runs, peak reported.

A full run at a million customers copies stores of 10 GB and more (the synced client cache, the
central store, the PostgreSQL data folder), so the run deletes each copy as soon as no later row
needs it, and :class:`DiskWatch` records the most its scratch folders held at once, and during
which row, for the run's footer.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DiskWatch", "folder_bytes", "forget_pages", "gb"]


def folder_bytes(path: Path) -> int:
    """Bytes a folder takes on disk (allocated blocks; files that vanish meanwhile count 0)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def forget_pages(path: Path) -> None:
    """Drop the page-cache pages of the file ``path`` (or of every file under the folder) once a
    run has copied it and reads only the copy (bench/README.md, "Copies and the page cache")."""
    files = [path] if path.is_file() else [Path(r, n) for r, _d, ns in os.walk(path) for n in ns]
    for file in files:
        try:
            fd = os.open(file, os.O_RDONLY)
        except OSError:  # a file the copy's owner keeps to itself: its pages stay
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def gb(n: float) -> str:
    """Bytes as GB with one decimal."""
    return f"{n / 1e9:.1f} GB"


@dataclass
class DiskPeak:
    """The most the scratch folders held, when, and the least free space seen."""

    peak: int = 0
    during: str = ""
    free_low: int | None = None

    def sentence(self) -> str:
        """One line for the run's footer."""
        where = f" (during {self.during})" if self.during else ""
        free = f"; free disk low point {gb(self.free_low)}" if self.free_low is not None else ""
        return f"Peak scratch use {gb(self.peak)}{where}{free}."


class DiskWatch:
    """Samples the size of the run's scratch folders every ``interval`` seconds in a thread."""

    def __init__(
        self,
        roots: Callable[[], list[Path]],
        phase: Callable[[], str],
        interval: float = 2.0,
        free_of: Path | None = None,
    ) -> None:
        """Watch the folders ``roots()`` names; ``phase()`` says what the run is doing."""
        self._roots = roots
        self._phase = phase
        self._interval = interval
        self._free_of = free_of
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-diskwatch", daemon=True)
        self.result = DiskPeak()

    def sample(self) -> int:
        """Measure once now and update the peak; returns the bytes held now."""
        used = sum(folder_bytes(p) for p in list(self._roots()) if p.exists())
        if used > self.result.peak:
            self.result.peak = used
            self.result.during = self._phase()
        if self._free_of is not None:
            free = shutil.disk_usage(self._free_of).free
            if self.result.free_low is None or free < self.result.free_low:
                self.result.free_low = free
        return used

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def __enter__(self) -> DiskWatch:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
