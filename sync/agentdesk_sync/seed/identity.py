"""Identity numbers: 18-digit PRC ID numbers, China Mobile numbers, deterministic UUIDv7s.

An ID number here agrees with its holder: the first six digits are the district of the home
address, digits 7–14 the birth date, digit 17 odd for men and even for women, and the last one
the ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

from operator import mul

import numpy as np
import numpy.typing as npt

from agentdesk_sync.seed.fast import Ints, Weighted

__all__ = ["PREFIXES", "id_check_char", "id_number", "msisdn_suffixes", "uuid7_texts"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# China Mobile number blocks (13x, 14x, 15x, 17x, 18x, 19x), weighted by how common they are
_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158",
    "159", "172", "178", "182", "183", "184", "187", "188", "195", "197", "198",
)  # fmt: skip
_PREFIX_WEIGHTS = (4, 6, 6, 6, 8, 8, 1, 4, 3, 3, 2, 4, 4, 1, 3, 3, 3, 2, 4, 4, 2, 1, 3)
PREFIXES = Weighted(list(zip(_PREFIXES, _PREFIX_WEIGHTS, strict=True)))
_SUFFIX_MULTIPLIER = 48_271_371  # odd and not a multiple of 5: a bijection on 0..10^8-1
_SUFFIX_OFFSET = 13_579_246


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of an ID number."""
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def id_number(district_code: str, birth_digits: str, order: int) -> str:
    """The ID number of a person born on ``birth_digits`` (YYYYMMDD), with its check character.

    ``order`` is the three-digit sequence number: odd for men, even for women.
    """
    first17 = f"{district_code}{birth_digits}{order:03d}"
    return first17 + id_check_char(first17)


def msisdn_suffixes(index: Ints) -> Ints:
    """The last eight digits of customer number ``index``: unique for every index < 10^8."""
    return (index * _SUFFIX_MULTIPLIER + _SUFFIX_OFFSET) % 100_000_000


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DASHES = (8, 13, 18, 23)


def uuid7_texts(
    epoch_ms: Ints, rand_a: npt.NDArray[np.uint64], rand_b: npt.NDArray[np.uint64]
) -> list[str]:
    """UUIDv7s of ``epoch_ms`` with 12 bits ``rand_a`` and 62 bits ``rand_b`` of randomness each."""
    count = len(epoch_ms)
    digits = np.empty((count, 32), dtype=np.uint64)
    high = epoch_ms.astype(np.uint64) & np.uint64(0xFFFF_FFFF_FFFF)
    low = rand_b | np.uint64(1 << 63)  # variant 0b10
    for k in range(12):
        digits[:, k] = (high >> np.uint64(4 * (11 - k))) & np.uint64(15)
    digits[:, 12] = 7  # version
    for k in range(3):
        digits[:, 13 + k] = (rand_a >> np.uint64(4 * (2 - k))) & np.uint64(15)
    for k in range(16):
        digits[:, 16 + k] = (low >> np.uint64(4 * (15 - k))) & np.uint64(15)
    chars = _HEX[digits]
    for at in _DASHES:
        chars = np.insert(chars, at, ord("-"), axis=1)
    text = chars.tobytes().decode("ascii")
    return [text[k * 36 : k * 36 + 36] for k in range(count)]
