"""A customer's segment-driven profile: segment, brand, VIP level, value class, base ARPU.

Mass segments (SS3, SS4, SS5, SS9) dominate; the high-value ones (SS1, SS2, SS6, SS7) are small.
Brand, VIP level and value class follow the segment, as in an IVOC extract.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from agentdesk.domain import Channel, Segment, ValueClass, VipLevel
from agentdesk_sync.seed.fast import Weighted, pick, uniform

__all__ = ["Profile", "pick_profile"]

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


@dataclass(frozen=True, slots=True)
class Profile:
    """What the segment decides about a customer."""

    segment: Segment
    brand: str
    sub_brand: str | None
    vip_level: VipLevel
    value_class: ValueClass
    base_arpu: float
    channel_preference: tuple[Channel, ...]


_SEGMENT_TABLE = Weighted(list(zip(_SEGMENTS, _SEGMENT_WEIGHTS, strict=True)))
_BRAND_TABLES = {segment: Weighted(pairs) for segment, pairs in _BRANDS.items()}
_VIP_TABLES = {segment: Weighted(pairs) for segment, pairs in _VIP.items()}
_PREFERENCE_TABLE = Weighted(_PREFERENCES)


def _value_class(segment: Segment, rng: random.Random) -> ValueClass:
    if segment.high_value:
        return ValueClass.HIGH_VALUE if rng.random() < 0.9 else ValueClass.MID_END
    if segment in (Segment.SS3, Segment.SS8):
        return ValueClass.MID_END if rng.random() < 0.8 else ValueClass.ORDINARY
    return ValueClass.ORDINARY


def pick_profile(rng: random.Random, age: int) -> Profile:
    """A profile for a customer of ``age`` (young people lean to 动感地带)."""
    segment = _SEGMENT_TABLE.pick(rng)
    brand = _BRAND_TABLES[segment.value].pick(rng)
    if age < 26 and brand == "神州行" and rng.random() < 0.6:
        brand = "动感地带"
    vip = VipLevel.NONE
    if brand == "全球通" and segment.value in _VIP_TABLES:
        vip = _VIP_TABLES[segment.value].pick(rng)
    subs = _SUB_BRANDS.get(brand)
    preference = [_PREFERENCE_TABLE.pick(rng)]
    if rng.random() < 0.4:
        second = _PREFERENCE_TABLE.pick(rng)
        if second not in preference:
            preference.append(second)
    return Profile(
        segment=segment,
        brand=brand,
        sub_brand=pick(rng, subs) if subs else None,
        vip_level=vip,
        value_class=_value_class(segment, rng),
        base_arpu=_BASE_ARPU[segment.value] * uniform(rng, 0.7, 1.35),
        channel_preference=tuple(preference),
    )
