"""P1 phone prefix search and P2 Chinese name search: store query and painted search list.

Ours: the store's search on the client cache built from the central data set, and the real
search panel of the UI (offscreen) from typed text to painted list. Floors: raw ``sqlite3`` on
the floor data set (index range scan, per-character FTS5) and a bare ``QTableView``.
"""

from __future__ import annotations

from bench import product as prod
from bench.context import Ctx, NotReady, metric
from bench.floordata import name_chars
from bench.floors import NAME_SQL, PHONE_SQL, floor_name_search, floor_phone_search
from bench.floors import phone_prefix_query as bounds
from bench.measure import Stat
from bench.report import Row

__all__ = ["name_inputs", "p1", "p2", "phone_inputs"]


def phone_inputs(ctx: Ctx, sample: list[tuple[str, str, str]]) -> list[str]:
    """Phone prefixes of 4 to 7 digits taken from real numbers of the data set."""
    return [msisdn[: 4 + i % 4] for i, (_cid, msisdn, _name) in enumerate(sample)]


def name_inputs(ctx: Ctx, sample: list[tuple[str, str, str]]) -> list[str]:
    """Name searches of 1, 2 and 3 characters taken from real names of the data set."""
    out = []
    for i, (_cid, _msisdn, name) in enumerate(sample):
        k = 1 + i % 3
        out.append(name[: min(k, len(name))])
    return out


def _warm_floor(ctx: Ctx, sql: str, params: list[tuple[str, ...]]) -> None:
    """Run the floor's queries once, untimed, so that its pages are in memory.

    A floor is the software's least cost. Without this pass each of its timed queries read
    ~50 rows scattered over the 2.5 GB floor file, and whatever of that file the run's 11 GB
    cache copy had pushed out of the page cache came from disk: at 1 M the same floor took
    0.27 ms with its pages in memory and 5.8 ms without, and 0.39 to 3.3 ms from run to run.
    Ours is not warmed: a search meets the cache as the user's machine has it.
    """
    ctx.status("floor: warming its pages (untimed)")
    for args in params:
        ctx.floor_con.execute(sql, args).fetchall()


def _floor_painted(ctx: Ctx, sql: str, params: list[tuple[str, ...]]) -> Stat:
    from bench.qtfloors import floor_painted

    ctx.status("floor: bare QTableView painted")
    return floor_painted(lambda i: ctx.floor_con.execute(sql, params[i % len(params)]).fetchall(),
                        ctx.ui_reps)  # fmt: skip


def p1(ctx: Ctx) -> Row:
    """P1: type 4+ digits of a phone number, see matches."""
    row = Row("P1", "phone prefix search", "≤ 5 ms query, ≤ 50 ms painted")
    floor_params: list[tuple[str, ...]] = [bounds(p) for p in phone_inputs(ctx, ctx.floor_sample)]
    _warm_floor(ctx, PHONE_SQL, floor_params)
    ctx.status("floor: raw index range scan")
    floor_q = floor_phone_search(ctx.floor_con, phone_inputs(ctx, ctx.floor_sample), ctx.reps)
    floor_p = _floor_painted(ctx, PHONE_SQL, floor_params)
    ours_q = ours_p = None
    notes = []
    try:
        cache = prod.client_cache(ctx)
        inputs = phone_inputs(ctx, prod.cache_sample(ctx, cache))
        ctx.status("ours: store search")
        ours_q = prod.time_store_search(ctx, cache, inputs)
        ctx.status("ours: search panel painted")
        ours_p = prod.time_search_painted(ctx, cache, inputs)
    except NotReady as exc:
        row.missing = True
        notes.append(f"not implemented yet: {exc}")
    row.metrics = [
        metric("query", ours_q, floor_q, 0.005),
        metric("painted", ours_p, floor_p, 0.050),
    ]
    row.note = "; ".join(notes) or (
        "4–7 digit prefixes of real numbers, LIMIT 50; floor pages warmed first, ours not"
    )
    return row


def p2(ctx: Ctx) -> Row:
    """P2: type 1–3 Chinese characters of a name."""
    row = Row("P2", "name search, 1–3 Chinese chars", "≤ 30 ms query")
    inputs = name_inputs(ctx, ctx.floor_sample)
    _warm_floor(ctx, NAME_SQL, [(f'"{name_chars(q)}"',) for q in inputs])
    ctx.status("floor: per-character FTS5")
    floor_q = floor_name_search(ctx.floor_con, inputs, ctx.reps)
    ours_q = None
    row.note = (
        "1, 2 and 3 leading chars of real names, LIMIT 50; floor pages warmed first, ours not"
    )
    try:
        cache = prod.client_cache(ctx)
        ours_inputs = name_inputs(ctx, prod.cache_sample(ctx, cache))
        ctx.status("ours: store name search")
        empty = prod.empty_results(cache, ours_inputs)
        ours_q = prod.time_store_search(ctx, cache, ours_inputs)
        if empty:  # a fast search that finds nothing is not a pass (trigram + 1–2 CJK chars)
            row.missing = True
            row.note = f"{empty} of {len(ours_inputs)} searches for existing names found nothing"
    except NotReady as exc:
        row.missing = True
        row.note = f"not implemented yet: {exc}"
    row.metrics = [metric("query", ours_q, floor_q, 0.030)]
    return row
