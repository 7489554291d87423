"""Draws for a whole chunk at once: uniform columns from ``random.Random``, weighted picks.

Calling ``random()`` (and the Python around it) once per value costs microseconds; at millions of
rows that is the whole budget. :class:`Draws` takes the chunk's ``random.Random`` and turns one
``getrandbits`` call into a column of uniform floats (53 bits each, like ``random()``), so the
generator decides every value of a column with a few numpy operations. Only the stdlib
Mersenne Twister is the source of randomness, so the data do not depend on numpy's generators.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["Draws", "Floats", "Ints", "Weighted", "below", "uniforms"]

T = TypeVar("T")
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
_SCALE = 2.0**-53


class Draws:
    """Columns of random numbers from one ``random.Random`` (same seed → same columns)."""

    __slots__ = ("_rng",)

    def __init__(self, rng: random.Random) -> None:
        """Draw from ``rng``."""
        self._rng = rng

    def bits(self, *shape: int) -> npt.NDArray[np.uint64]:
        """Uniform 64-bit integers of ``shape``."""
        count = int(np.prod(shape))
        if count == 0:
            return np.zeros(shape, dtype=np.uint64)
        raw = self._rng.getrandbits(64 * count).to_bytes(8 * count, "little")
        return np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(shape)

    def uniform(self, *shape: int) -> Floats:
        """Floats in ``[0, 1)`` of ``shape`` (53 random bits each, like ``random()``)."""
        return uniforms(self.bits(*shape))


def uniforms(bits: npt.NDArray[np.uint64]) -> Floats:
    """Floats in ``[0, 1)`` from 64-bit draws (their top 53 bits)."""
    return (bits >> np.uint64(11)).astype(np.float64) * _SCALE


def below(u: Floats, n: int | Ints) -> Ints:
    """``int(u * n)``: a uniform integer in ``[0, n)`` for each uniform ``u``."""
    return (u * n).astype(np.int64)


class Weighted(Generic[T]):
    """A fixed weighted choice: a column of uniforms → a column of indices into :attr:`items`."""

    __slots__ = ("_cumulative", "items")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        """Build from ``(item, weight)`` pairs (zero weights are never drawn)."""
        self.items: tuple[T, ...] = tuple(item for item, _ in pairs)
        cumulative = np.cumsum([float(weight) for _, weight in pairs])
        self._cumulative = cumulative / cumulative[-1]

    def indices(self, u: Floats) -> Ints:
        """For each uniform in ``u``, the index of the item it falls on."""
        found = np.searchsorted(self._cumulative, u, side="right")
        return np.minimum(found, len(self.items) - 1).astype(np.int64)
