"""Chinese personal names with their pinyin: surnames by frequency, given names of 1–2 characters.

The pinyin table is small and hand-made (no polyphonic surprises: every character here is read
one way in names), so the client can search by Latin name without a pinyin library.
"""

from __future__ import annotations

from functools import cache

from agentdesk_sync.seed.fast import Weighted

__all__ = ["full_name", "given_pool", "pinyin_of", "surnames"]

# surname, pinyin, frequency (per 10 000 people, national 2020 census order)
_SURNAMES = (
    ("王", "wang", 725), ("李", "li", 719), ("张", "zhang", 683), ("刘", "liu", 538),
    ("陈", "chen", 453), ("杨", "yang", 308), ("黄", "huang", 223), ("赵", "zhao", 191),
    ("吴", "wu", 183), ("周", "zhou", 173), ("徐", "xu", 132), ("孙", "sun", 130),
    ("马", "ma", 122), ("朱", "zhu", 119), ("胡", "hu", 102), ("郭", "guo", 99),
    ("何", "he", 94), ("高", "gao", 91), ("林", "lin", 89), ("罗", "luo", 87),
    ("郑", "zheng", 84), ("梁", "liang", 81), ("谢", "xie", 64), ("宋", "song", 61),
    ("唐", "tang", 60), ("许", "xu", 54), ("韩", "han", 51), ("冯", "feng", 50),
    ("邓", "deng", 50), ("曹", "cao", 47), ("彭", "peng", 46), ("曾", "zeng", 45),
    ("肖", "xiao", 44), ("田", "tian", 43), ("董", "dong", 42), ("袁", "yuan", 41),
    ("潘", "pan", 38), ("于", "yu", 38), ("蒋", "jiang", 37), ("蔡", "cai", 36),
    ("余", "yu", 35), ("杜", "du", 34), ("叶", "ye", 33), ("程", "cheng", 33),
    ("苏", "su", 32), ("魏", "wei", 31), ("吕", "lv", 30), ("丁", "ding", 30),
    ("任", "ren", 29), ("沈", "shen", 28), ("姚", "yao", 27), ("卢", "lu", 27),
    ("钟", "zhong", 26), ("姜", "jiang", 25), ("崔", "cui", 24), ("谭", "tan", 24),
    ("陆", "lu", 23), ("范", "fan", 22), ("汪", "wang", 22), ("廖", "liao", 21),
)  # fmt: skip
_MALE = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("华", "hua"), ("平", "ping"), ("刚", "gang"),
    ("辉", "hui"), ("鹏", "peng"), ("斌", "bin"), ("宇", "yu"), ("浩", "hao"), ("俊", "jun"),
    ("峰", "feng"), ("建", "jian"), ("国", "guo"), ("志", "zhi"), ("文", "wen"), ("海", "hai"),
    ("林", "lin"), ("波", "bo"), ("东", "dong"), ("成", "cheng"), ("子", "zi"), ("轩", "xuan"),
    ("博", "bo"), ("晨", "chen"), ("天", "tian"), ("嘉", "jia"), ("永", "yong"), ("德", "de"),
    ("家", "jia"), ("荣", "rong"), ("庆", "qing"), ("新", "xin"), ("立", "li"), ("昊", "hao"),
)  # fmt: skip
_FEMALE = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
    ("娟", "juan"), ("霞", "xia"), ("秀", "xiu"), ("燕", "yan"), ("玲", "ling"), ("婷", "ting"),
    ("雪", "xue"), ("慧", "hui"), ("颖", "ying"), ("琳", "lin"), ("晶", "jing"), ("洁", "jie"),
    ("梅", "mei"), ("兰", "lan"), ("红", "hong"), ("英", "ying"), ("萍", "ping"), ("倩", "qian"),
    ("欣", "xin"), ("怡", "yi"), ("佳", "jia"), ("思", "si"), ("雨", "yu"), ("梓", "zi"),
    ("涵", "han"), ("悦", "yue"), ("瑶", "yao"), ("彤", "tong"), ("月", "yue"), ("春", "chun"),
    ("小", "xiao"), ("晓", "xiao"), ("美", "mei"), ("诗", "shi"), ("可", "ke"), ("文", "wen"),
)  # fmt: skip


@cache
def surnames() -> Weighted[tuple[str, str]]:
    """Surnames with their pinyin, weighted by frequency."""
    return Weighted([((s, p), w) for s, p, w in _SURNAMES])


def given_pool(male: bool) -> tuple[tuple[str, str], ...]:
    """The given-name characters (with pinyin) for men or women."""
    return _MALE if male else _FEMALE


@cache
def _pinyin_table() -> dict[str, str]:
    table = {s: p for s, p, _ in _SURNAMES}
    for char, reading in (*_MALE, *_FEMALE):
        table.setdefault(char, reading)
    return table


def pinyin_of(text: str) -> str:
    """The pinyin of a name made of this module's characters (others are kept as they are)."""
    table = _pinyin_table()
    return "".join(table.get(char, char) for char in text)


def full_name(family: tuple[str, str], given: list[tuple[str, str]]) -> tuple[str, str, str]:
    """``(chinese, pinyin, initials)`` of a surname and one or two given-name characters."""
    family_cn, family_py = family
    given_py = "".join(p for _, p in given)
    initials = family_py[0] + "".join(p[0] for _, p in given)
    return (
        family_cn + "".join(c for c, _ in given),
        f"{family_py.title()} {given_py.title()}",
        initials,
    )
