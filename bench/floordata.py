"""The floor data set: a raw SQLite file shaped like a client cache, written without agentdesk.

The floors must not depend on our code, so they run on this file, built here with plain
``sqlite3`` at the same scale as the product's data set (N customers, 5 N contacts, 3 N
holdings), with the indexes a careful hand-written schema would have: an INTEGER rowid, a
``msisdn`` index for range scans and a per-character FTS5 index of names.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson

__all__ = ["SURNAMES", "build_floor_db", "given_chars", "msisdn_of", "name_chars"]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英文华建国红玉梅凤志明海燕晓东"
    "波辉鹏宇浩然子涵欣怡梓轩雨萱一诺佳琪思远博文俊杰嘉怡心怡诗涵晨阳"
)
_PREFIXES = ("134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159",
             "182", "183", "187", "188", "147", "178", "198", "165", "172", "195")  # fmt: skip

_ADDRESS = "广东省广州市天河区体育西路"

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE customer(id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL UNIQUE,
  msisdn TEXT NOT NULL, name TEXT NOT NULL, region_code TEXT NOT NULL, row TEXT NOT NULL);
CREATE TABLE contact(id INTEGER PRIMARY KEY, contact_id TEXT NOT NULL UNIQUE,
  customer_id TEXT NOT NULL, started_at TEXT NOT NULL, row TEXT NOT NULL);
CREATE TABLE holding(id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, row TEXT NOT NULL);
CREATE TABLE outbox(id TEXT PRIMARY KEY, client_seq INTEGER UNIQUE, kind TEXT, payload TEXT,
  state TEXT, created_at TEXT);
CREATE VIRTUAL TABLE name_fts USING fts5(chars, content='', tokenize='unicode61');
"""
INDEXES = """
CREATE INDEX ix_customer_msisdn ON customer(msisdn);
CREATE INDEX ix_contact_customer ON contact(customer_id, started_at);
CREATE INDEX ix_holding_customer ON holding(customer_id);
INSERT INTO name_fts(rowid, chars) SELECT id, chars_of(name) FROM customer;
ANALYZE;
"""


def msisdn_of(rng: random.Random) -> str:
    """A plausible mainland mobile number."""
    return rng.choice(_PREFIXES) + f"{rng.randrange(10**8):08d}"


def given_chars() -> str:
    """The characters used for given names (for choosing search inputs)."""
    return _GIVEN


def name_chars(name: str) -> str:
    """A name split into single characters separated by spaces (per-character FTS)."""
    return " ".join(name)


def _name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _customers(n: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    for i in range(1, n + 1):
        cid = f"C{i:08d}"
        msisdn = msisdn_of(rng)
        name = _name(rng)
        region = f"{rng.choice((11, 31, 44, 32, 33, 51))}{rng.randrange(1, 20):02d}00"
        row = {"customer_id": cid, "msisdn": msisdn, "name": name, "region_code": region,
               "segment_id": "SS3", "vip_level": "none", "contact_address": _ADDRESS}  # fmt: skip
        yield (i, cid, msisdn, name, region, orjson.dumps(row).decode())


def _contacts(n: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    for i in range(1, 5 * n + 1):
        cust = f"C{rng.randrange(1, n + 1):08d}"
        day = f"2026-{rng.randrange(1, 12):02d}-{rng.randrange(1, 28):02d}T10:00:00Z"
        row = {"customer_id": cust, "channel": "outbound_call", "result_code": "reached_accepted",
               "started_at": day, "staff_id": "agent1", "note": ""}  # fmt: skip
        yield (i, f"00000000-0000-7000-8000-{i:012d}", cust, day, orjson.dumps(row).decode())


def _holdings(n: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    for i in range(1, 3 * n + 1):
        cust = f"C{(i - 1) // 3 + 1:08d}"
        row = {"holding_id": f"H{i:09d}", "customer_id": cust, "product_code": "P001",
               "product_name": "4G畅享套餐", "kind": "plan", "monthly_fee": 58.0}  # fmt: skip
        yield (i, cust, orjson.dumps(row).decode())


def build_floor_db(path: Path, customers: int, seed: int) -> Path:
    """Build the floor data set at ``path`` unless it is already complete.

    Args:
        path: The SQLite file to create.
        customers: Number of customers (contacts 5×, holdings 3×).
        seed: Seed of the pseudo-random generator.

    Returns:
        ``path``.
    """
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    con = sqlite3.connect(tmp, isolation_level=None)
    con.create_function("chars_of", 1, name_chars, deterministic=True)
    con.executescript(SCHEMA)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    con.executemany("INSERT INTO customer VALUES (?,?,?,?,?,?)", _customers(customers, rng))
    con.executemany("INSERT INTO contact VALUES (?,?,?,?,?)", _contacts(customers, rng))
    con.executemany("INSERT INTO holding VALUES (?,?,?)", _holdings(customers, rng))
    con.execute("COMMIT")
    con.executescript(INDEXES)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    tmp.rename(path)
    return path
