"""Customer search: phone/ID ranges, 1–3 Chinese characters, pinyin, windows, query plans."""

from __future__ import annotations

import threading

import pytest

from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes
from agentdesk.store.search import (
    _HIT_COLUMNS,
    CountInterrupted,
    _cancellable,
    count_matches,
    fetch_rows,
    fetch_window,
    parse_query,
    search,
)
from tests.unit.store.conftest import customer_change

PEOPLE = [
    ("C00000001", "张三", "13800138000", "440103199001011234"),
    ("C00000002", "张三丰", "13800139111", "44010319850505567X"),
    ("C00000003", "李张三", "13912345678", "110101197001012222"),
    ("C00000004", "王小明", "15011112222", "44010620000202333x"),
    ("C00000005", "曾小贤", "18622223333", "440104198812124444"),
    ("C00000006", "欧阳娜娜", "13700001111", "440105199509095555"),
    ("C00000007", "张伟", "13800001234", "440111199303036666"),
]


@pytest.fixture
def filled(db: CacheDB) -> CacheDB:
    changes = [
        customer_change(i + 1, cid, name, msisdn, id_number=idn)
        for i, (cid, name, msisdn, idn) in enumerate(PEOPLE)
    ]
    with db.sync_writer() as w:
        apply_changes(w, changes, "c1", True)
    return db


def names(db: CacheDB, text: str) -> list[str]:
    with db.reader() as r:
        return [h.name for h in search(r, text, limit=50)]


def test_one_chinese_character_finds_names_starting_with_it_first(filled: CacheDB) -> None:
    found = names(filled, "张")
    assert found[:3] == ["张三", "张三丰", "张伟"]
    assert found[3:] == ["李张三"]


def test_two_chinese_characters_match_as_a_phrase(filled: CacheDB) -> None:
    assert names(filled, "张三") == ["张三", "张三丰", "李张三"]
    assert names(filled, "小明") == ["王小明"]
    assert names(filled, "三张") == []


def test_three_chinese_characters(filled: CacheDB) -> None:
    assert names(filled, "张三丰") == ["张三丰"]
    assert names(filled, "欧阳娜") == ["欧阳娜娜"]


def test_pinyin_full_initials_and_polyphonic_surname(filled: CacheDB) -> None:
    assert names(filled, "zhangsan") == ["张三", "张三丰", "李张三"]
    assert names(filled, "zsf") == ["张三丰"]
    assert names(filled, "xiaoming") == ["王小明"]
    assert set(names(filled, "zengxiao")) == {"曾小贤"}
    assert names(filled, "ouyang") == ["欧阳娜娜"]
    assert names(filled, "Zhang San") == ["张三", "张三丰", "李张三"]


def test_phone_prefix_of_four_or_more_digits(filled: CacheDB) -> None:
    assert names(filled, "1380") == ["张伟", "张三", "张三丰"]
    assert names(filled, "13800138") == ["张三"]
    assert names(filled, "138 0013 8000") == ["张三"]


def test_id_number_prefix_and_suffix(filled: CacheDB) -> None:
    assert names(filled, "110101") == ["李张三"]
    assert names(filled, "567X") == ["张三丰"]
    assert names(filled, "567x") == ["张三丰"]
    assert names(filled, "44010319850505567X") == ["张三丰"]
    # 4-8 digits that are no phone prefix: ID prefix and then ID suffix
    assert names(filled, "333X") == ["王小明"]  # stored upper-case whatever the server sent
    # 4-8 digits that are no phone prefix: ID prefix, then ID suffix
    assert names(filled, "4444") == ["曾小贤"]


def test_customer_id_prefix(filled: CacheDB) -> None:
    assert names(filled, "c00000004") == ["王小明"]


def test_count_is_capped_and_labelled(filled: CacheDB) -> None:
    with filled.reader() as r:
        assert count_matches(r, "张").count == 4
        capped = count_matches(r, "", cap=5)
    assert capped.capped
    assert capped.label == "5+"


def test_a_count_stops_when_a_newer_search_cancels_it(filled: CacheDB) -> None:
    cancel = threading.Event()
    with filled.reader() as r:
        assert count_matches(r, "张", cancel=cancel).count == 4  # not cancelled: counts
        # a long count stops part-way once the event is set (here by row 1,000 of 10 million)
        r.create_function("reached", 1, lambda x: cancel.set() if x == 1000 else None)
        sql = (
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000000) "
            "SELECT count(reached(x)) FROM n"
        )
        with pytest.raises(CountInterrupted), _cancellable(r, cancel):
            r.execute(sql).fetchone()
        with pytest.raises(CountInterrupted):  # already cancelled: does not start
            count_matches(r, "张", cancel=cancel)
        assert count_matches(r, "张").count == 4  # the connection goes back to the pool intact


def test_windows_page_through_parts_without_gaps_or_duplicates(filled: CacheDB) -> None:
    query = parse_query("张")
    with filled.reader() as r:
        whole = [h.customer_id for h in fetch_window(r, query, 0, 100)]
        paged = [h.customer_id for start in range(0, 4) for h in fetch_window(r, query, start, 1)]
        empty = fetch_window(r, query, 10, 5)
    assert paged == whole
    assert len(set(whole)) == 4
    assert empty == []


def test_empty_query_browses_everything_in_order(filled: CacheDB) -> None:
    with filled.reader() as r:
        window = fetch_window(r, "", 2, 3)
    assert [h.customer_id for h in window] == ["C00000003", "C00000004", "C00000005"]


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("1380013", "ix_customer_msisdn"),
        ("440103", "ix_customer_id_number"),
        ("567X", "ix_customer_id_rev"),
    ],
)
def test_prefix_searches_use_an_index_range(filled: CacheDB, text: str, index: str) -> None:
    part = parse_query(text).parts[0]
    sql = f"EXPLAIN QUERY PLAN SELECT c.customer_id {part.source} ORDER BY {part.order} LIMIT 50"
    with filled.reader() as r:
        plan = " ".join(row[3] for row in r.execute(sql, part.params))
    assert f"INDEX {index} (" in plan
    assert "SCAN c" not in plan.replace("SCAN c USING", "")
    assert "TEMP B-TREE" not in plan


def test_a_phone_search_reads_its_hits_from_the_phone_index_alone(filled: CacheDB) -> None:
    # The hits of a phone prefix come from neighbouring index pages, not one customer page
    # each: on a 1 M cache those pages are scattered over ~4 GB and often not in memory.
    with filled.reader() as r:
        hits = fetch_window(r, "138", 0, 50)
    assert hits
    assert all(h.msisdn.startswith("138") and h.matched == "phone" for h in hits)
    assert [h.msisdn for h in hits] == sorted(h.msisdn for h in hits)


@pytest.mark.parametrize("text", ["138", "1380013", "13800139111", "440103", "5678", "567X"])
def test_every_part_of_a_digit_search_reads_a_covering_index(filled: CacheDB, text: str) -> None:
    # Digits that match few phone numbers go on to the ID-number prefix and suffix: those
    # parts (and the phone matches they leave out) are answered by their index alone too.
    with filled.reader() as r:
        for part in parse_query(text).parts:
            sql = f"SELECT {_HIT_COLUMNS} {part.source} ORDER BY {part.order} LIMIT 50"
            plan = " ".join(row[3] for row in r.execute(f"EXPLAIN QUERY PLAN {sql}", part.params))
            assert "USING COVERING INDEX ix_customer_" in plan, (part.kind, plan)
            assert "TEMP B-TREE" not in plan


@pytest.mark.parametrize("text", ["138", "1380013", "4401", "张", "zs", "", "C0000000"])
def test_plain_rows_are_the_hits_of_the_same_window(filled: CacheDB, text: str) -> None:
    with filled.reader() as r:
        for start in (0, 2):
            hits = fetch_window(r, text, start, 3)
            rows = fetch_rows(r, text, start, 3)
            assert [tuple(row) for row in rows] == [
                (h.customer_id, h.name, h.msisdn, h.id_number, h.region_code, h.segment_id,
                 h.value_tier, h.vip_level, h.churn_level)
                for h in hits
            ]  # fmt: skip


def test_name_search_uses_the_fts_index(filled: CacheDB) -> None:
    part = parse_query("张").parts[0]
    with filled.reader() as r:
        plan = " ".join(
            row[3] for row in r.execute(f"EXPLAIN QUERY PLAN SELECT 1 {part.source}", part.params)
        )
    assert "VIRTUAL TABLE INDEX" in plan


def test_names_follow_updates_and_removals(filled: CacheDB) -> None:
    from agentdesk.protocol import Change

    with filled.sync_writer() as w:
        apply_changes(w, [customer_change(20, "C00000004", "王大明", "15011112222")], "c2", True)
        apply_changes(
            w, [Change(seq=21, entity="customer", op="remove", id="C00000007")], "c3", True
        )
    assert names(filled, "小明") == []
    assert names(filled, "大明") == ["王大明"]
    assert "张伟" not in names(filled, "张")
