"""A customer's segment-driven profile: segment, brand, VIP level, value class, base ARPU.

Mass segments (SS3, SS4, SS5, SS9) dominate; the high-value ones (SS1, SS2, SS6, SS7) are small.
Brand, VIP level and value class follow the segment, as in an IVOC extract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agentdesk.domain import Channel, Segment, ValueClass, VipLevel
from agentdesk_sync.seed.fast import Floats, Ints, Weighted

__all__ = ["BRANDS", "PREFERENCES", "SEGMENTS", "Profiles", "make_profiles"]

_SEGMENTS = tuple(Segment)
_SEGMENT_WEIGHTS = (2, 3, 22, 19, 15, 3, 2, 11, 23)  # SS1 … SS9, percent
_BASE_ARPU = {"SS1": 268, "SS2": 176, "SS3": 86, "SS4": 42, "SS5": 16, "SS6": 215, "SS7": 198,
              "SS8": 118, "SS9": 35}  # fmt: skip
_BRANDS = {
    "SS1": (("全球通", 95), ("动感地带", 5)),
    "SS2": (("全球通", 55), ("动感地带", 45)),
    "SS3": (("全球通", 55), ("动感地带", 25), ("神州行", 20)),
    "SS4": (("全球通", 20), ("动感地带", 15), ("神州行", 65)),
    "SS5": (("全球通", 10), ("动感地带", 15), ("神州行", 75)),
    "SS6": (("全球通", 90), ("动感地带", 10)),
    "SS7": (("全球通", 90), ("动感地带", 10)),
    "SS8": (("全球通", 70), ("动感地带", 10), ("神州行", 20)),
    "SS9": (("全球通", 15), ("神州行", 85)),
}
_VIP = {
    "SS1": ((VipLevel.DIAMOND, 40), (VipLevel.PLATINUM, 45), (VipLevel.GOLD, 15)),
    "SS2": ((VipLevel.PLATINUM, 30), (VipLevel.GOLD, 60), (VipLevel.SILVER, 10)),
    "SS6": ((VipLevel.PLATINUM, 40), (VipLevel.GOLD, 50), (VipLevel.SILVER, 10)),
    "SS7": ((VipLevel.PLATINUM, 30), (VipLevel.GOLD, 55), (VipLevel.SILVER, 15)),
    "SS3": ((VipLevel.SILVER, 45), (VipLevel.NONE, 55)),
    "SS8": ((VipLevel.GOLD, 15), (VipLevel.SILVER, 50), (VipLevel.NONE, 35)),
}
_SUB_BRANDS = {"动感地带": ("音乐", "非音乐"), "神州行": ("畅听卡", "大众卡", "0月租卡")}
_PREFERENCES = (
    (Channel.OUTBOUND_CALL, 25), (Channel.SMS, 25), (Channel.STORE, 20),
    (Channel.ONLINE_STORE, 15), (Channel.INBOUND_CALL, 10), (Channel.FIELD_VISIT, 5),
)  # fmt: skip


BRANDS = ("全球通", "动感地带", "神州行")
SEGMENTS = tuple(s.value for s in _SEGMENTS)
PREFERENCES = tuple(c.value for c, _ in _PREFERENCES)


@dataclass(frozen=True, slots=True)
class Profiles:
    """What the segment decides about each customer of a chunk (one entry per customer).

    ``segment``, ``brand`` and the preference columns are indices into :data:`SEGMENTS`,
    :data:`BRANDS` and :data:`PREFERENCES`; ``preference2`` is -1 where there is no second one.
    """

    segment: Ints
    brand: Ints
    sub_brand: list[str | None]
    vip_level: list[str]
    value_class: list[str]
    base_arpu: Floats
    preference1: Ints
    preference2: Ints


def _table(weights: dict[str, tuple[tuple[str, int], ...]], names: tuple[str, ...]) -> Floats:
    """Per segment, the cumulative shares over ``names`` (rows of zeros-then-one where absent)."""
    table = np.zeros((len(SEGMENTS), len(names)))
    for row, segment in enumerate(SEGMENTS):
        pairs = dict(weights.get(segment, ()))
        shares = np.array([float(pairs.get(name, 0)) for name in names])
        table[row] = np.cumsum(shares) / shares.sum() if shares.sum() else 1.0
    return table


_BRAND_CUM = _table(_BRANDS, BRANDS)
_VIP_NAMES = tuple(v.value for v in VipLevel)
_VIP_CUM = _table({s: tuple((v.value, w) for v, w in p) for s, p in _VIP.items()}, _VIP_NAMES)
_HAS_VIP = np.array([s in _VIP for s in SEGMENTS])
_HIGH = np.array([s.high_value for s in _SEGMENTS])
_MID = np.array([s in (Segment.SS3, Segment.SS8) for s in _SEGMENTS])
_ARPU = np.array([float(_BASE_ARPU[s]) for s in SEGMENTS])
_SEGMENT_TABLE = Weighted(list(zip(SEGMENTS, _SEGMENT_WEIGHTS, strict=True)))
_PREFERENCE_TABLE = Weighted([(c.value, w) for c, w in _PREFERENCES])


def _pick_rows(cumulative: Floats, u: Floats) -> Ints:
    """Per row, the index where ``u`` falls in that row's cumulative shares."""
    found = (cumulative <= u[:, None]).sum(axis=1)
    picked: Ints = np.minimum(found, cumulative.shape[1] - 1).astype(np.int64)
    return picked


def make_profiles(u: Floats, age: Ints) -> Profiles:
    """Profiles from ten uniform columns ``u[0:10]`` for customers of ``age`` years.

    Young people (under 26) lean from 神州行 to 动感地带; VIP levels exist for 全球通 only.
    """
    segment = _SEGMENT_TABLE.indices(u[0])
    brand = _pick_rows(_BRAND_CUM[segment], u[1])
    brand[(age < 26) & (brand == 2) & (u[2] < 0.6)] = 1
    vip_index = _pick_rows(_VIP_CUM[segment], u[3])
    with_vip = (brand == 0) & _HAS_VIP[segment]
    none = _VIP_NAMES.index(VipLevel.NONE.value)
    vip = np.where(with_vip, vip_index, none)
    subs = [None if b == 0 else _SUB_BRANDS[BRANDS[b]] for b in range(3)]
    sub_brand: list[str | None] = []
    for b, draw in zip(brand.tolist(), u[4].tolist(), strict=True):
        options = subs[b]
        sub_brand.append(options[int(draw * len(options))] if options else None)
    high, mid = _HIGH[segment], _MID[segment]
    value = np.where(
        high,
        np.where(u[5] < 0.9, 0, 1),
        np.where(mid, np.where(u[5] < 0.8, 1, 2), 2),
    )
    classes = (ValueClass.HIGH_VALUE.value, ValueClass.MID_END.value, ValueClass.ORDINARY.value)
    first = _PREFERENCE_TABLE.indices(u[6])
    second = _PREFERENCE_TABLE.indices(u[8])
    second = np.where((u[7] < 0.4) & (second != first), second, -1)
    return Profiles(
        segment=segment,
        brand=brand,
        sub_brand=sub_brand,
        vip_level=[_VIP_NAMES[i] for i in vip.tolist()],
        value_class=[classes[i] for i in value.tolist()],
        base_arpu=_ARPU[segment] * (0.7 + 0.65 * u[9]),
        preference1=first,
        preference2=second,
    )
