"""Coherent Chinese addresses from the GB/T 2260 division codes in ``resources/data``.

Customers are concentrated in a handful of cities (Guangzhou 440100 and Shenzhen 440300 above
all) with a long tail, so that demo users of region 440100 have plenty of customers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from agentdesk.paths import resource_path
from agentdesk_sync.seed.fast import Weighted

__all__ = ["ESTATES", "ESTATE_HEADS", "STREETS", "City", "District", "cities", "city_table",
           "districts_in", "street_address"]  # fmt: skip

_MUNICIPALITIES = ("11", "12", "31", "50")
# city code -> weight (per mille); the rest goes to the long tail of other cities
_HEAVY = {
    "440100": 300,
    "440300": 220,
    "440600": 70,
    "441900": 50,
    "440400": 20,
    "110100": 25,
    "310100": 25,
    "510100": 20,
    "330100": 20,
    "420100": 15,
}
_TAIL_SHARE = 1000 - sum(_HEAVY.values())
STREETS = (
    "中山路", "人民路", "解放路", "建设路", "天河路", "滨江路", "东风路", "环市路", "新港路",
    "花园路", "黄埔大道", "工业大道", "江南大道", "体育西路", "南京路", "长江路", "和平路",
    "文化路", "朝阳路", "青年路", "五一路", "光明路", "胜利路", "学府路", "科技园路", "沿江路",
)  # fmt: skip
ESTATES = (
    "花园", "新村", "小区", "公寓", "雅苑", "名都", "华庭", "广场", "大厦", "家园", "锦苑", "城",
)  # fmt: skip
ESTATE_HEADS = (
    "阳光", "碧桂", "保利", "金碧", "翠湖", "丽江", "紫荆", "锦绣", "海景", "富力", "君悦",
    "东方", "星河", "万科", "恒大", "龙湖",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class District:
    """A county-level division: its code and name."""

    code: str
    name: str
    since: int = 0  # first year the code was in use (0: always)


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level city with its province and districts."""

    code: str
    name: str
    province: str
    districts: tuple[District, ...]


def _load_current() -> dict[str, tuple[str, int]]:
    path = resource_path("data", "cn_admin_division_codes.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: (row["name"], int(row["start_year"] or 0))
            for row in csv.DictReader(handle)
            if not row["end_year"]
        }


@cache
def cities() -> dict[str, City]:
    """Every current city keyed by its ``XXXX00`` code (municipalities as ``XX0100``)."""
    current = _load_current()
    names = {code: name for code, (name, _) in current.items()}
    by_city: dict[str, list[District]] = {}
    for code, (name, since) in sorted(current.items()):
        if code.endswith("00") or name == "市辖区":
            continue
        by_city.setdefault(code[:4] + "00", []).append(District(code, name, since))
    result: dict[str, City] = {}
    for code in sorted({c[:4] + "00" for c in names if not c.endswith("0000")}):
        province = names.get(code[:2] + "0000", "")
        municipal = code[:2] in _MUNICIPALITIES
        city_name = province if municipal else names.get(code, "")
        districts = tuple(by_city.get(code, ())) or (District(code, city_name),)
        if (city_name and code in names) or municipal:
            result[code] = City(code, city_name, "" if municipal else province, districts)
    return result


@cache
def city_table() -> Weighted[City]:
    """Cities weighted with the demo's skew (Guangzhou and Shenzhen first, then a long tail)."""
    table = cities()
    tail = [code for code in table if code not in _HEAVY and code.startswith("44")]
    tail += [code for code in table if code not in _HEAVY and not code.startswith("44")][::7]
    per_tail = _TAIL_SHARE / len(tail)
    pairs = [(table[c], float(w)) for c, w in _HEAVY.items() if c in table]
    return Weighted(pairs + [(table[c], per_tail) for c in tail])


@cache
def districts_in(code: str, born: int) -> tuple[District, ...]:
    """The districts of city ``code`` that existed in year ``born`` (else the city itself)."""
    existing = tuple(d for d in cities()[code].districts if d.since <= born)
    return existing or (District(code, "", 0),)


def street_address(city: City, district: District, parts: tuple[int, ...]) -> str:
    """An address in ``district`` from six draws: street, estate head and name, numbers.

    ``parts`` are indices into the street, estate-head and estate lists, then the house number
    (0-based, < 399), building (< 30), floor (< 33) and room (< 8).
    """
    street, head, estate, house, building, floor, room = parts
    return (
        f"{city.province}{city.name}{district.name if district.code != city.code else ''}"
        f"{STREETS[street]}{house + 1}号{ESTATE_HEADS[head]}{ESTATES[estate]}{building + 1}栋"
        f"{floor + 1}{room + 1:02d}室"
    )
