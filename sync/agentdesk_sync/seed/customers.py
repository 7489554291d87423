"""The customers of one chunk as wire rows: attributes, holdings, usage months, value and churn.

Every random value is drawn a column at a time (:class:`~agentdesk_sync.seed.fast.Draws`) and
computed with numpy; Python only assembles the rows. Rows are plain dicts shaped exactly like
``agentdesk.protocol.to_row`` of the domain dataclasses (templates are taken from the
dataclasses' defaults), because building millions of frozen dataclasses costs more than the
whole database load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from math import cos, log, sqrt, tau
from typing import Any

import numpy as np

from agentdesk.domain import ChurnInfo, CustomerAttributes, CustomerView, Holding, ValueInfo
from agentdesk.protocol import to_row
from agentdesk_sync.seed.catalog import EXTRAS, PLANS, Product
from agentdesk_sync.seed.fast import Draws, Floats, Ints, Weighted, below
from agentdesk_sync.seed.identity import PREFIXES, id_check_char, id_number, msisdn_suffixes
from agentdesk_sync.seed.names import full_name, given_pool, surnames
from agentdesk_sync.seed.profile import BRANDS, PREFERENCES, SEGMENTS, Profiles, make_profiles
from agentdesk_sync.seed.regions import (
    ESTATE_HEADS,
    ESTATES,
    STREETS,
    City,
    District,
    city_table,
    districts_in,
    street_address,
)

__all__ = ["Customers", "make_customers"]

Row = dict[str, Any]
_ATTRS = to_row(CustomerAttributes(customer_id="", msisdn="", name=""))
_VIEW = to_row(CustomerView(attributes=CustomerAttributes(customer_id="", msisdn="", name="")))
_VALUE = to_row(ValueInfo())
_CHURN = to_row(ChurnInfo())
_SENSITIVE = ("outbound_call", "sms", "field_visit")
_JOIN_CHANNELS = ("营业厅", "网上营业厅", "代理商", "社区经理", "校园营销", "10086热线")
_CHURN_REASONS = ("携号转网意向", "资费不满", "信号覆盖差", "竞争对手优惠", "服务投诉", "换机流失")
_CHURN_BASE = np.array([{"SS6": 0.65, "SS7": 0.55, "SS5": 0.35}.get(s, 0.12) for s in SEGMENTS])
_EXTRA_COUNT = Weighted([(0, 10), (1, 25), (2, 35), (3, 20), (4, 10)])
_AM_PER_REGION = 8
_FAMILY_SHARE = 0.005
_DUPLICATE_SHARE = 0.003
_SHARED_ADDRESS = ("contact_address", "home_address", "postcode", "region_code",
                   "district_code", "region", "permanent_region")  # fmt: skip
_SAME_PERSON = ("name", "id_number", "gender", "birth_date", "user_name", "account_holder", "extra")
_PLAN_FEES = [np.array([p.fee for p in PLANS[brand]]) for brand in BRANDS]
_ENDING = ("contract", "handset")
_STATUS = to_row(Holding(holding_id="", customer_id="", product_code="", product_name="",
                          kind=""))["status"]  # fmt: skip
# uniform columns per customer: person and address (0–37), profile (38–47), holdings (48–63),
# usage (64–65), value and churn (66–74)
_PERSON_COLUMNS = 75
_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Customers:
    """One chunk's customers: their wire rows plus what the activity rows hang on."""

    customers: list[Row]
    holdings: list[Row]
    usage: list[Row]
    attrs: list[Row]
    segment: Ints


@lru_cache(maxsize=65536)
def _day(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


@lru_cache(maxsize=16)
def _month_labels(current: int) -> tuple[str, ...]:
    """``YYYY-MM`` of the month ``back`` months before month number ``current``, by ``back``."""
    return tuple(
        f"{(current - back) // 12:04d}-{(current - back) % 12 + 1:02d}" for back in range(13)
    )


def _triangular(u: Floats, low: float, high: float, mode: float) -> Floats:
    """The triangular distribution by inverting its CDF."""
    c = (mode - low) / (high - low)
    left = low + np.sqrt(u * (high - low) * (mode - low))
    right = high - np.sqrt((1.0 - u) * (high - low) * (high - mode))
    return np.where(u < c, left, right)


def _names(u: Floats, male: list[bool]) -> list[tuple[str, str, str]]:
    """``(chinese, pinyin, initials)`` from four columns: surname, given names, second or not."""
    table = surnames()
    family = table.indices(u[0]).tolist()
    first_u, has_second, second_u = u[1].tolist(), (u[2] < 0.7).tolist(), u[3].tolist()
    names = []
    for i, is_male in enumerate(male):
        pool = given_pool(is_male)
        first = int(first_u[i] * len(pool))
        given = [pool[first]]
        if has_second[i]:
            second = int(second_u[i] * (len(pool) - 1))
            given.append(pool[second + 1 if second >= first else second])
        names.append(full_name(table.items[family[i]], given))
    return names


def _flags(u: Floats) -> list[Row]:
    """Sensitivity, do-not-contact and opt-out flags from six columns."""
    sensitive = (u[0] < 0.02).tolist()
    by_channel = [(u[1 + k] < 0.5).tolist() for k in range(3)]
    do_not_contact, opt_out = (u[4] < 0.01).tolist(), (u[5] < 0.03).tolist()
    flags = []
    for i, is_sensitive in enumerate(sensitive):
        channels: list[str] = []
        if is_sensitive:
            channels = [c for k, c in enumerate(_SENSITIVE) if by_channel[k][i]] or [
                "outbound_call"
            ]
        flags.append(
            {"is_sensitive": is_sensitive, "sensitive_channels": channels,
             "do_not_contact": do_not_contact[i], "consent_opt_out": ["sms"] if opt_out[i] else []}
        )  # fmt: skip
    return flags


def _household(attrs: Row, previous: Row, duplicate: bool) -> None:
    """A family sharing the previous customer's number, or the same person registered twice."""
    keys = _SHARED_ADDRESS + (_SAME_PERSON if duplicate else ())
    attrs.update({key: previous[key] for key in keys})
    if not duplicate:
        attrs["msisdn"] = attrs["contact_phone"] = previous["msisdn"]
        first17 = previous["district_code"] + attrs["id_number"][6:17]
        attrs["id_number"] = first17 + id_check_char(first17)


def _attributes(
    u: Floats, first: int, anchor: date, profiles: Profiles, ages: tuple[Ints, Ints]
) -> list[Row]:
    """The attribute rows (households applied) from the person columns ``u[0:38]``.

    ``ages`` are the days since birth and since joining.
    """
    m = u.shape[1]
    today = anchor.toordinal()
    male = (u[0] < 0.52).tolist()
    names = _names(u[1:5], male)
    age_days, joined_days = ages
    births = (today - age_days).tolist()
    cities = city_table()
    city_index = cities.indices(u[6]).tolist()
    district_u = u[7].tolist()
    address_parts = np.stack([
        below(u[8], len(STREETS)), below(u[9], len(ESTATE_HEADS)), below(u[10], len(ESTATES)),
        below(u[11], 399), below(u[12], 30), below(u[13], 33), below(u[14], 8),
    ]).T.tolist()  # fmt: skip
    postcodes = below(u[15], 1000).tolist()
    prefixes = PREFIXES.indices(u[16]).tolist()
    suffixes = msisdn_suffixes(np.arange(first, first + m, dtype=np.int64)).tolist()
    orders = (below(u[17], 500) * 2 + (u[0] < 0.52)).tolist()
    credit = below(u[18], 6).tolist()
    joined = (today - joined_days).tolist()
    join_channel = below(u[20], len(_JOIN_CHANNELS)).tolist()
    status_roll = (u[21] < 0.01).tolist()
    expiry = np.where(u[22] < 0.4, today - 30 + below(u[23], 396), -1).tolist()
    company = ((profiles.segment == 0) & (u[24] < 0.3)).tolist()
    imei = (10**12 + below(u[25], 9 * 10**12)).tolist()
    join_imei = (10**12 + below(u[26], 9 * 10**12)).tolist()
    java, fetion = (u[27] < 0.5).tolist(), (u[28] < 0.2).tolist()
    keeps_segment = (u[29] < 0.85).tolist()
    manager = (1 + below(u[30], _AM_PER_REGION)).tolist()
    household = u[31].tolist()
    flags = _flags(u[32:38])
    brand, segment = profiles.brand.tolist(), profiles.segment.tolist()
    first_pref, second_pref = profiles.preference1.tolist(), profiles.preference2.tolist()
    rows: list[Row] = []
    previous: Row | None = None
    for i in range(m):
        chinese, pinyin, initials = names[i]
        birth = date.fromordinal(births[i])
        city: City = cities.items[city_index[i]]
        existing = districts_in(city.code, birth.year)
        district: District = existing[int(district_u[i] * len(existing))]
        address = street_address(city, district, tuple(address_parts[i]))
        high = profiles.value_class[i] == "high_value"
        postpaid = brand[i] == 0
        msisdn = f"{PREFIXES.items[prefixes[i]]}{suffixes[i]:08d}"
        segment_id = SEGMENTS[segment[i]]
        preference = [PREFERENCES[first_pref[i]]]
        if second_pref[i] >= 0:
            preference.append(PREFERENCES[second_pref[i]])
        attrs = dict(_ATTRS)
        attrs.update(
            customer_id=f"C{first + i:08d}", msisdn=msisdn, name=chinese,
            gender="male" if male[i] else "female", birth_date=birth.isoformat(),
            contact_address=address, postcode=f"{city.code[:3]}{postcodes[i]:03d}",
            home_address=address,
            id_number=id_number(district.code, f"{birth:%Y%m%d}", orders[i]),
            region_code=city.code, district_code=district.code, brand=BRANDS[brand[i]],
            sub_brand=profiles.sub_brand[i], vip_level=profiles.vip_level[i],
            value_class=profiles.value_class[i], credit_level="ABBBCC"[credit[i]],
            join_date=_day(joined[i]), join_channel=_JOIN_CHANNELS[join_channel[i]],
            region=city.name, permanent_region=city.name,
            number_status=(("suspended" if status_roll[i] else "in_use") if postpaid
                           else ("retention_period" if status_roll[i] else "valid")),
            bundle_expiry=_day(expiry[i]) if expiry[i] >= 0 else None,
            in_retention_period=None if postpaid else False,
            is_kpi_customer=high, company_registered=company[i],
            imei=f"86{imei[i]}", join_imei=f"35{join_imei[i]}",
            supports_java=java[i], supports_fetion=fetion[i], segment_id=segment_id,
            previous_segment_id=segment_id if keeps_segment[i] else None,
            channel_preference=preference,
            account_manager_id=f"am_{city.code}_{manager[i]}" if high else None,
            user_name=chinese, account_holder=chinese, contact_phone=msisdn,
            music_club=profiles.sub_brand[i] == "音乐",
            extra={"name_pinyin": pinyin, "name_initials": initials},
            previous_numbers=[], tags=[], **flags[i],
        )  # fmt: skip
        if previous is not None and household[i] < _FAMILY_SHARE + _DUPLICATE_SHARE:
            _household(attrs, previous, duplicate=household[i] < _DUPLICATE_SHARE)
        rows.append(attrs)
        previous = attrs
    return rows


def _plans(brand: Ints, target: Floats) -> list[Product]:
    """Per customer, the plan of their brand whose fee is nearest ``target``."""
    plans: list[Product] = []
    nearest = [np.abs(fees[None, :] - target[:, None]).argmin(axis=1) for fees in _PLAN_FEES]
    for i, b in enumerate(brand.tolist()):
        plans.append(PLANS[BRANDS[b]][int(nearest[b][i])])
    return plans


def _holdings(u: Floats, attrs: list[Row], profiles: Profiles, today: int) -> list[list[Row]]:
    """About three products per customer (the plan plus extras) from columns ``u[0:16]``."""
    plans = _plans(profiles.brand, profiles.base_arpu * (0.7 + 0.4 * u[0]))
    order = np.argsort(u[1:10].T, axis=1, kind="stable").tolist()
    counts = _EXTRA_COUNT.indices(u[10]).tolist()
    backs = (10 + below(u[11:16], 891)).T.tolist()
    result: list[list[Row]] = []
    for i, a in enumerate(attrs):
        cid = a["customer_id"]
        products = [plans[i], *(EXTRAS[k] for k in order[i][: counts[i]])]
        rows = []
        for number, product in enumerate(products, start=1):
            back = backs[i][number - 1]
            ends = None
            if product.kind in _ENDING:
                ends = a["bundle_expiry"] or _day(today - back + 730)
            rows.append(
                {"holding_id": f"{cid}-H{number}", "customer_id": cid,
                 "product_code": product.code, "product_name": product.name,
                 "kind": product.kind, "monthly_fee": float(product.fee),
                 "data_allowance_mb": product.data_mb, "voice_allowance_min": product.voice_min,
                 "started_on": _day(today - back), "ends_on": ends, "status": _STATUS}
            )  # fmt: skip
        result.append(rows)
    return result


@dataclass(frozen=True, slots=True)
class _Usage:
    """Usage per customer (rows) and month (columns, by months back: column 0 is one back)."""

    months: list[int]
    voice: Ints
    data: Ints
    sms: Ints
    arpu: Floats
    roaming: Ints
    overage: Floats


def _usage_columns(u: Floats, usage_u: Floats, base: Floats) -> _Usage:
    """6–12 months per customer from ``u[0:2]`` (heavy user, months) and ``usage_u[0:4]``."""
    heavy = np.where(u[0] < 0.25, 1.3, 1.0)[:, None]
    factor = (0.8 + 0.4 * usage_u[0]) * heavy
    b = base[:, None]
    return _Usage(
        months=(6 + below(u[1], 7)).tolist(),
        voice=(b * 3.2 * factor).astype(np.int64),
        data=(b * 190 * factor * factor).astype(np.int64),
        sms=below(usage_u[1], 41),
        arpu=np.round(b * factor, 2),
        roaming=np.where(usage_u[2] < 0.1, below(usage_u[3], 61), 0),
        overage=np.where(heavy > 1, np.round(b * 0.15 * factor, 2), 0.0),
    )


def _usage_rows(usage: _Usage, attrs: list[Row], anchor: date) -> list[Row]:
    """The usage rows, per customer the oldest month first."""
    labels = np.array(_month_labels(anchor.year * 12 + anchor.month - 1)[_MONTHS:0:-1])
    months = np.array(usage.months)
    # columns from 12 months back to 1; a customer has the last ``months`` of them
    kept = np.arange(_MONTHS, 0, -1)[None, :] <= months[:, None]
    customer_ids = np.repeat(np.array([a["customer_id"] for a in attrs]), months)

    def flat(column: Floats | Ints) -> list[Any]:
        return column[:, ::-1][kept].tolist()  # type: ignore[no-any-return]

    return [
        {"customer_id": cid, "month": month, "voice_min": voice, "data_mb": data,
         "sms_count": sms, "arpu": arpu, "roaming_min": roaming, "overage_fee": overage}
        for cid, month, voice, data, sms, arpu, roaming, overage in zip(
            customer_ids.tolist(), np.broadcast_to(labels, kept.shape)[kept].tolist(),
            flat(usage.voice), flat(usage.data), flat(usage.sms), flat(usage.arpu),
            flat(usage.roaming), flat(usage.overage), strict=True,
        )
    ]  # fmt: skip


def _value_and_churn(u: Floats, usage: _Usage, joined_days: Ints, profiles: Profiles) -> list[Row]:
    """Value and churn blocks plus the behaviour stats from ``u[0:9]``."""
    arpu3 = np.round((usage.arpu[:, 2] + usage.arpu[:, 1] + usage.arpu[:, 0]) / 3, 2)
    tenure = np.maximum(1, joined_days // 30)
    tier = np.select([arpu3 >= 200, arpu3 >= 120, arpu3 >= 60, arpu3 >= 25], [1, 2, 3, 4], 5)
    # Box–Muller with the stdlib's log and cos (numpy's may differ in the last bit by CPU)
    normal = np.array(
        [
            sqrt(-2.0 * log(1.0 - a)) * cos(tau * b)
            for a, b in zip(u[6].tolist(), u[7].tolist(), strict=True)
        ]
    )
    score = np.round(np.clip(_CHURN_BASE[profiles.segment] + 0.15 * normal, 0.01, 0.99), 3)
    columns = {
        "arpu3": arpu3.tolist(), "lifetime": np.round(arpu3 * tenure, 2).tolist(),
        "tier": tier.tolist(), "credit": (520 + below(u[0], 381)).tolist(),
        "points": (arpu3 * tenure * (0.5 + 0.7 * u[1])).astype(np.int64).tolist(),
        "arrears": np.where(u[2] < 0.03, np.round(10 + 290 * u[3], 2), 0.0).tolist(),
        "fee_alert": (u[4] < 0.05).tolist(), "anomaly": (u[5] < 0.03).tolist(),
        "score": score.tolist(), "reason": below(u[8], len(_CHURN_REASONS)).tolist(),
        "data3": np.round(usage.data[:, :3].sum(axis=1) / 3, 1).tolist(),
        "voice3": np.round(usage.voice[:, :3].sum(axis=1) / 3, 1).tolist(),
        "over3": (usage.overage[:, :3] > 0).sum(axis=1).astype(np.float64).tolist(),
    }  # fmt: skip
    blocks: list[Row] = []
    for i in range(len(columns["score"])):
        value = dict(_VALUE)
        value.update(
            arpu_3m=columns["arpu3"][i], lifetime_value=columns["lifetime"][i],
            value_tier=columns["tier"][i], credit_score=columns["credit"][i],
            points=columns["points"][i], arrears=columns["arrears"][i],
            fee_alert=columns["fee_alert"][i], bill_anomaly=columns["anomaly"][i],
        )  # fmt: skip
        s = columns["score"][i]
        level = "high" if s >= 0.6 else "medium" if s >= 0.3 else "low"
        churn = dict(_CHURN)
        churn.update(
            risk_score=s, risk_level=level,
            reason=_CHURN_REASONS[columns["reason"][i]] if level != "low" else None,
            urgency={"high": 3 if s >= 0.8 else 2, "medium": 1, "low": 0}[level],
        )  # fmt: skip
        behaviour = {
            "avg_data_mb_3m": columns["data3"][i],
            "avg_voice_min_3m": columns["voice3"][i],
            "overage_months_3m": columns["over3"][i],
        }
        blocks.append({"value": value, "churn": churn, "behaviour_stats": behaviour})
    return blocks


def make_customers(draws: Draws, first: int, m: int, width: int, anchor: date) -> Customers:
    """Customers ``first`` … ``first + m - 1`` with coherent address, ID number and profile.

    The draws are made for ``width`` (>= ``m``) customers and the first ``m`` used, so a
    customer does not depend on how many follow them in the chunk. Families (0.5 %) share the
    previous customer's number and address; duplicates (0.3 %) are the previous person
    registered again.
    """
    u = draws.uniform(_PERSON_COLUMNS, width)[:, :m]
    usage_u = draws.uniform(4, width, _MONTHS)[:, :m]
    today = anchor.toordinal()
    age_days = (_triangular(u[5], 18, 80, 38) * 365.25).astype(np.int64)
    joined_days = 40 + below(u[19], 5436)
    profiles = make_profiles(u[38:48], age_days // 365)
    attrs = _attributes(u[:38], first, anchor, profiles, (age_days, joined_days))
    holdings = _holdings(u[48:64], attrs, profiles, today)
    usage = _usage_columns(u[64:66], usage_u, profiles.base_arpu)
    blocks = _value_and_churn(u[66:75], usage, joined_days, profiles)
    customers: list[Row] = []
    for a, own, block in zip(attrs, holdings, blocks, strict=True):
        row = dict(_VIEW)
        row.update(
            attributes=a, holdings=[], usage=[], value=block["value"], churn=block["churn"],
            holding_stats={
                "products": float(len(own)),
                "monthly_fee_total": round(sum(h["monthly_fee"] for h in own), 2),
            },
            behaviour_stats=block["behaviour_stats"],
        )  # fmt: skip
        customers.append(row)
    return Customers(
        customers=customers,
        holdings=[h for own in holdings for h in own],
        usage=_usage_rows(usage, attrs, anchor),
        attrs=attrs,
        segment=profiles.segment,
    )
