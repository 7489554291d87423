"""Identity numbers: 18-digit PRC ID numbers, China Mobile numbers, deterministic UUIDv7s.

An ID number here agrees with its holder: the first six digits are the district of the home
address, digits 7–14 the birth date, digit 17 odd for men and even for women, and the last one
the ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import random
from datetime import date
from operator import mul

from agentdesk_sync.seed.fast import Weighted

__all__ = ["id_check_char", "make_id_number", "make_msisdn", "uuid7_at"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# China Mobile number blocks (13x, 14x, 15x, 17x, 18x, 19x), weighted by how common they are
_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158",
    "159", "172", "178", "182", "183", "184", "187", "188", "195", "197", "198",
)  # fmt: skip
_PREFIX_WEIGHTS = (4, 6, 6, 6, 8, 8, 1, 4, 3, 3, 2, 4, 4, 1, 3, 3, 3, 2, 4, 4, 2, 1, 3)
_PREFIX_TABLE = Weighted(list(zip(_PREFIXES, _PREFIX_WEIGHTS, strict=True)))
_SUFFIX_MULTIPLIER = 48_271_371  # odd and not a multiple of 5: a bijection on 0..10^8-1
_SUFFIX_OFFSET = 13_579_246


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of an ID number."""
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def make_id_number(rng: random.Random, district_code: str, birth: date, male: bool) -> str:
    """An 18-character ID number consistent with district, birth date and gender."""
    order = int(rng.random() * 500) * 2 + (1 if male else 0)
    first17 = f"{district_code}{birth:%Y%m%d}{order:03d}"
    return first17 + id_check_char(first17)


def make_msisdn(rng: random.Random, index: int) -> str:
    """A mobile number unique for every ``index`` below 10^8 (the last 8 digits are a bijection)."""
    prefix = _PREFIX_TABLE.pick(rng)
    suffix = (index * _SUFFIX_MULTIPLIER + _SUFFIX_OFFSET) % 100_000_000
    return f"{prefix}{suffix:08d}"


def uuid7_at(rng: random.Random, epoch_ms: int) -> str:
    """A UUIDv7 string whose time part is ``epoch_ms`` and whose random bits come from ``rng``."""
    bits = rng.getrandbits(74)
    rand_a = bits >> 62
    rand_b = (bits & ((1 << 62) - 1)) | (1 << 63)  # variant 0b10
    high = f"{epoch_ms & 0xFFFF_FFFF_FFFF:012x}"
    low = f"{rand_b:016x}"
    return f"{high[:8]}-{high[8:]}-7{rand_a:03x}-{low[:4]}-{low[4:]}"
