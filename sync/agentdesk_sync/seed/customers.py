"""One generated customer as wire rows: attributes, holdings, usage months, value and churn.

Rows are built as plain dicts shaped exactly like ``agentdesk.protocol.to_row`` of the domain
dataclasses (templates are taken from the dataclasses' defaults), because building millions of
frozen dataclasses costs more than the whole database load.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from agentdesk.domain import (
    ChurnInfo,
    CustomerAttributes,
    CustomerView,
    Holding,
    ValueInfo,
)
from agentdesk.protocol import to_row
from agentdesk_sync.seed.catalog import EXTRAS, PLANS, Product
from agentdesk_sync.seed.fast import Weighted, pick, randint, uniform
from agentdesk_sync.seed.identity import make_id_number, make_msisdn
from agentdesk_sync.seed.names import PersonName, pick_name
from agentdesk_sync.seed.profile import Profile, pick_profile
from agentdesk_sync.seed.regions import pick_address, pick_city

__all__ = ["Person", "customer_row", "make_holdings", "make_person", "make_usage"]

Row = dict[str, Any]
_ATTRS = to_row(CustomerAttributes(customer_id="", msisdn="", name=""))
_VIEW = to_row(CustomerView(attributes=CustomerAttributes(customer_id="", msisdn="", name="")))
_HOLDING = to_row(Holding(holding_id="", customer_id="", product_code="", product_name="", kind=""))
_VALUE = to_row(ValueInfo())
_CHURN = to_row(ChurnInfo())
_SENSITIVE = ("outbound_call", "sms", "field_visit")
_JOIN_CHANNELS = ("营业厅", "网上营业厅", "代理商", "社区经理", "校园营销", "10086热线")
_CHURN_REASONS = ("携号转网意向", "资费不满", "信号覆盖差", "竞争对手优惠", "服务投诉", "换机流失")
_EXTRA_COUNT = Weighted([(0, 10), (1, 25), (2, 35), (3, 20), (4, 10)])
_AM_PER_REGION = 8


@dataclass(frozen=True, slots=True)
class Person:
    """A customer's attribute row plus what later steps need from its generation."""

    attrs: Row
    profile: Profile
    name: PersonName


def _day(anchor_ord: int, days_back: int) -> str:
    return date.fromordinal(anchor_ord - days_back).isoformat()


def _flags(rng: random.Random) -> Row:
    sensitive = rng.random() < 0.02
    channels = [c for c in _SENSITIVE if rng.random() < 0.5] or ["outbound_call"]
    return {
        "is_sensitive": sensitive,
        "sensitive_channels": channels if sensitive else [],
        "do_not_contact": rng.random() < 0.01,
        "consent_opt_out": ["sms"] if rng.random() < 0.03 else [],
    }


def make_person(rng: random.Random, index: int, anchor: date) -> Person:
    """Customer number ``index`` (1-based) with coherent address, ID number and profile."""
    male = rng.random() < 0.52
    name = pick_name(rng, male)
    age_days = int(rng.triangular(18, 80, 38) * 365.25)
    birth = date.fromordinal(anchor.toordinal() - age_days)
    profile = pick_profile(rng, age_days // 365)
    city = pick_city(rng)
    district, address, postcode = pick_address(rng, city, birth.year)
    high = profile.value_class.value == "high_value"
    msisdn = make_msisdn(rng, index)
    today = anchor.toordinal()
    attrs = dict(_ATTRS)
    attrs.update(
        customer_id=f"C{index:08d}", msisdn=msisdn, name=name.chinese,
        gender="male" if male else "female", birth_date=birth.isoformat(),
        contact_address=address, postcode=postcode, home_address=address,
        id_number=make_id_number(rng, district.code, birth, male), region_code=city.code,
        district_code=district.code, brand=profile.brand, sub_brand=profile.sub_brand,
        vip_level=profile.vip_level.value, value_class=profile.value_class.value,
        credit_level=pick(rng, "ABBBCC"), join_date=_day(today, randint(rng, 40, 5475)),
        join_channel=pick(rng, _JOIN_CHANNELS), region=city.name, permanent_region=city.name,
        number_status=_status(rng, profile.brand == "全球通"),
        bundle_expiry=_day(today, -randint(rng, -30, 365)) if rng.random() < 0.4 else None,
        in_retention_period=None if profile.brand == "全球通" else False,
        is_kpi_customer=high,
        company_registered=profile.segment.value == "SS1" and rng.random() < 0.3,
        imei=f"86{randint(rng, 10**12, 10**13 - 1)}",
        join_imei=f"35{randint(rng, 10**12, 10**13 - 1)}",
        supports_java=rng.random() < 0.5, supports_fetion=rng.random() < 0.2,
        segment_id=profile.segment.value,
        previous_segment_id=profile.segment.value if rng.random() < 0.85 else None,
        channel_preference=[c.value for c in profile.channel_preference],
        account_manager_id=f"am_{city.code}_{randint(rng, 1, _AM_PER_REGION)}" if high else None,
        user_name=name.chinese, account_holder=name.chinese, contact_phone=msisdn,
        music_club=profile.sub_brand == "音乐",
        extra={"name_pinyin": name.pinyin, "name_initials": name.initials},
        previous_numbers=[], tags=[], **_flags(rng),
    )  # fmt: skip
    return Person(attrs, profile, name)


def _status(rng: random.Random, postpaid: bool) -> str:
    roll = rng.random()
    if postpaid:
        return "suspended" if roll < 0.01 else "in_use"
    return "retention_period" if roll < 0.01 else "valid"


_SHUFFLE_STEPS = tuple((i, (i + 1).bit_length()) for i in reversed(range(1, len(EXTRAS))))


def _shuffled(rng: random.Random, items: tuple[Product, ...]) -> list[Product]:
    """``rng.shuffle(list(items))`` with the same draws, without its per-step calls."""
    shuffled = list(items)
    bits = rng.getrandbits
    for i, k in _SHUFFLE_STEPS:
        j = bits(k)
        while j > i:
            j = bits(k)
        shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
    return shuffled


def make_holdings(rng: random.Random, person: Person, anchor: date) -> list[Row]:
    """About three products: the plan, plus extras."""
    attrs = person.attrs
    cid = attrs["customer_id"]
    target = person.profile.base_arpu * uniform(rng, 0.7, 1.1)
    plan = min(PLANS[person.profile.brand], key=lambda p: abs(p.fee - target))
    extras = _shuffled(rng, EXTRAS)
    rows = []
    for number, product in enumerate([plan, *extras[: _EXTRA_COUNT.pick(rng)]], start=1):
        back = randint(rng, 10, 900)
        ends = None
        if product.kind in ("contract", "handset"):
            ends = attrs["bundle_expiry"] or _day(anchor.toordinal(), back - 730)
        row = dict(_HOLDING)
        row.update(
            holding_id=f"{cid}-H{number}", customer_id=cid, product_code=product.code,
            product_name=product.name, kind=product.kind, monthly_fee=float(product.fee),
            data_allowance_mb=product.data_mb, voice_allowance_min=product.voice_min,
            started_on=_day(anchor.toordinal(), back), ends_on=ends,
        )  # fmt: skip
        rows.append(row)
    return rows


@lru_cache(maxsize=16)
def _month_labels(current: int) -> tuple[str, ...]:
    """``YYYY-MM`` of the month ``back`` months before month number ``current``, by ``back``."""
    return tuple(
        f"{(current - back) // 12:04d}-{(current - back) % 12 + 1:02d}" for back in range(13)
    )


def make_usage(rng: random.Random, person: Person, anchor: date) -> list[Row]:
    """6–12 months of usage ending with the month before ``anchor``."""
    base = person.profile.base_arpu
    heavy = 1.3 if rng.random() < 0.25 else 1.0
    cid = person.attrs["customer_id"]
    current = anchor.year * 12 + anchor.month - 1
    months = 6 + int(rng.random() * 7)
    rnd = rng.random
    rows = []
    labels = _month_labels(current)
    for back in range(months, 0, -1):
        factor = (0.8 + 0.4 * rnd()) * heavy
        rows.append(
            {
                "customer_id": cid,
                "month": labels[back],
                "voice_min": int(base * 3.2 * factor),
                "data_mb": int(base * 190 * factor * factor),
                "sms_count": int(rnd() * 41),
                "arpu": round(base * factor, 2),
                "roaming_min": int(rnd() * 61) if rnd() < 0.1 else 0,
                "overage_fee": round(base * 0.15 * factor, 2) if heavy > 1 else 0.0,
            }
        )
    return rows


def _value(rng: random.Random, person: Person, usage: list[Row], anchor: date) -> Row:
    arpu3 = round(sum(u["arpu"] for u in usage[-3:]) / len(usage[-3:]), 2)
    joined = date.fromisoformat(person.attrs["join_date"])
    tenure_months = max(1, (anchor - joined).days // 30)
    tier = (
        1 if arpu3 >= 200 else 2 if arpu3 >= 120 else 3 if arpu3 >= 60 else 4 if arpu3 >= 25 else 5
    )
    row = dict(_VALUE)
    row.update(
        arpu_3m=arpu3, lifetime_value=round(arpu3 * tenure_months, 2), value_tier=tier,
        credit_score=randint(rng, 520, 900),
        points=int(arpu3 * tenure_months * uniform(rng, 0.5, 1.2)),
        arrears=round(uniform(rng, 10, 300), 2) if rng.random() < 0.03 else 0.0,
        fee_alert=rng.random() < 0.05, bill_anomaly=rng.random() < 0.03,
    )  # fmt: skip
    return row


def _churn(rng: random.Random, person: Person) -> Row:
    base = {"SS6": 0.65, "SS7": 0.55, "SS5": 0.35}.get(person.profile.segment.value, 0.12)
    score = round(min(0.99, max(0.01, rng.gauss(base, 0.15))), 3)
    level = "high" if score >= 0.6 else "medium" if score >= 0.3 else "low"
    row = dict(_CHURN)
    row.update(
        risk_score=score, risk_level=level,
        reason=pick(rng, _CHURN_REASONS) if level != "low" else None,
        urgency={"high": 3 if score >= 0.8 else 2, "medium": 1, "low": 0}[level],
    )  # fmt: skip
    return row


def customer_row(
    rng: random.Random, person: Person, holdings: list[Row], usage: list[Row], anchor: date
) -> Row:
    """The customer's wire row: ``to_row(CustomerView)`` without holdings and usage."""
    recent = usage[-3:]
    months = len(recent)
    row = dict(_VIEW)
    row.update(
        attributes=person.attrs, holdings=[], usage=[],
        value=_value(rng, person, usage, anchor), churn=_churn(rng, person),
        holding_stats={
            "products": float(len(holdings)),
            "monthly_fee_total": round(sum(h["monthly_fee"] for h in holdings), 2),
        },
        behaviour_stats={
            "avg_data_mb_3m": round(sum(u["data_mb"] for u in recent) / months, 1),
            "avg_voice_min_3m": round(sum(u["voice_min"] for u in recent) / months, 1),
            "overage_months_3m": float(sum(1 for u in recent if u["overage_fee"] > 0)),
        },
    )  # fmt: skip
    return row
