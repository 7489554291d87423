"""The search list's first screen: one window of rows, "N+" only when more really match."""

from __future__ import annotations

from agentdesk.domain import Role
from agentdesk.services.search import FIRST_WINDOW, SearchService
from agentdesk.store import CacheDB
from agentdesk.store.apply import apply_changes
from tests.unit.store.conftest import customer_change


def _fill(db: CacheDB, phones: int, id_numbers: int = 0) -> None:
    """``phones`` customers whose number starts 1391234, ``id_numbers`` whose ID does."""
    changes = [
        customer_change(i + 1, f"C{i + 1:08d}", "张三", f"1391234{i:04d}") for i in range(phones)
    ]
    changes += [
        customer_change(
            phones + i + 1,
            f"D{i + 1:08d}",
            "李四",
            f"1500000{i:04d}",
            id_number=f"1391234{i:07d}123X",
        )
        for i in range(id_numbers)
    ]
    with db.sync_writer() as w:
        apply_changes(w, changes, "c1", True)


def test_a_result_that_fills_the_first_window_exactly_is_counted(db: CacheDB) -> None:
    _fill(db, FIRST_WINDOW)
    page = SearchService(db, Role.CALL_CENTRE).search("1391234")
    assert (len(page.first), page.counted, page.total_label) == (
        FIRST_WINDOW,
        True,
        str(FIRST_WINDOW),
    )


def test_one_row_more_than_the_window_shows_n_plus_and_the_count_finds_it(db: CacheDB) -> None:
    _fill(db, FIRST_WINDOW + 1)
    search = SearchService(db, Role.CALL_CENTRE)
    page = search.search("1391234")
    assert (len(page.first), page.counted, page.total_label) == (
        FIRST_WINDOW,
        False,
        f"{FIRST_WINDOW}+",
    )
    assert search.count("1391234").count == FIRST_WINDOW + 1
    rest = search.window("1391234", FIRST_WINDOW, FIRST_WINDOW)
    assert [h.customer_id for h in rest] == [f"C{FIRST_WINDOW + 1:08d}"]


def test_rows_beyond_the_window_found_by_a_later_part_count_as_more(db: CacheDB) -> None:
    """Phone numbers fill the window; an ID number starting with the digits is the row more."""
    _fill(db, FIRST_WINDOW, id_numbers=1)
    search = SearchService(db, Role.CALL_CENTRE)
    page = search.search("1391234")
    assert (page.counted, page.total_label) == (False, f"{FIRST_WINDOW}+")
    assert all(h.customer_id.startswith("C") for h in page.first)  # phone matches first
    assert search.count("1391234").count == FIRST_WINDOW + 1


def test_the_list_masks_numbers_by_role_in_the_first_and_later_windows(db: CacheDB) -> None:
    _fill(db, FIRST_WINDOW + 1)
    masked = SearchService(db, Role.CALL_CENTRE)
    first, later = masked.search("1391234").first[0], masked.window("1391234", FIRST_WINDOW, 5)
    assert (first.customer_id, first.name, first.phone, first.id_number, first.region) == (
        "C00000001",
        "张三",
        "139****0000",
        "4401**********1234",
        "440100",
    )
    assert [h.phone for h in later] == ["139****0050"]
    full = SearchService(db, Role.FIELD)
    hit = full.search("13912340007").first[0]
    assert (hit.phone, hit.id_number) == ("13912340007", "440103199001011234")
    assert full.by_msisdn("139 1234 0050")[0].phone == "13912340050"
