"""P3 open a customer and P4 save an outcome.

Ours: the services' open-customer use case on the client cache (view, 50 contacts, holdings,
recommendations, eligibility) and the real customer view painted; the store's
``record_outcome`` (contact + outbox row, one durable transaction). Floors: raw ``sqlite3`` on
the floor data set and bare Qt widgets.
"""

from __future__ import annotations

from typing import Any

from bench import product as prod
from bench.context import Ctx, NotReady, metric
from bench.floors import floor_commit, floor_open
from bench.report import Row

__all__ = ["p3", "p4"]


def _floor_fetch(ctx: Ctx) -> Any:
    con = ctx.floor_con
    ids = [cid for cid, _m, _n in ctx.floor_sample]

    def fetch(i: int) -> tuple[tuple[Any, ...], list[Any], list[Any]]:
        cid = ids[i % len(ids)]
        head = con.execute("SELECT row FROM customer WHERE customer_id=?", (cid,)).fetchone()
        contacts = con.execute("SELECT row FROM contact WHERE customer_id=? ORDER BY started_at "
                               "DESC LIMIT 50", (cid,)).fetchall()  # fmt: skip
        holdings = con.execute("SELECT row FROM holding WHERE customer_id=?", (cid,)).fetchall()
        return head, contacts, holdings

    return fetch


def p3(ctx: Ctx) -> Row:
    """P3: open a customer (data, then painted view)."""
    from bench.qtfloors import floor_view_painted

    row = Row("P3", "open a customer", "≤ 30 ms data, ≤ 100 ms painted")
    ids = [cid for cid, _m, _n in ctx.floor_sample]
    ctx.status("floor: raw SQL open")
    floor_d = floor_open(ctx.floor_con, ids, ctx.reps)
    ctx.status("floor: bare widgets painted")
    floor_p = floor_view_painted(_floor_fetch(ctx), ctx.ui_reps)
    ours_d = ours_p = None
    row.note = "view + 50 contacts + holdings + recommendations + eligibility, random customers"
    try:
        cache = prod.client_cache(ctx)
        ours_ids = [cid for cid, _m, _n in prod.cache_sample(ctx, cache)]
        ctx.status("ours: open customer (services)")
        ours_d = prod.time_open_customer(ctx, cache, ours_ids)
        ctx.status("ours: customer view painted")
        ours_p = prod.time_open_painted(ctx, cache, ours_ids)
    except NotReady as exc:
        row.missing = True
        row.note = f"not implemented yet: {exc}"
    row.metrics = [
        metric("data", ours_d, floor_d, 0.030),
        metric("painted", ours_p, floor_p, 0.100),
    ]
    return row


def p4(ctx: Ctx) -> Row:
    """P4: save an outcome (contact + outbox row, durable commit)."""
    row = Row("P4", "save an outcome (durable)", "≤ 5 ms commit")
    ids = [cid for cid, _m, _n in ctx.floor_sample]
    ctx.status("floor: raw INSERT+COMMIT WAL FULL")
    floor_c = floor_commit(ctx.floor_db(), ids, ctx.reps)
    ours = None
    row.note = "contact + outbox row in one transaction, synchronous=FULL"
    try:
        cache = prod.client_cache(ctx)
        ours_ids = [cid for cid, _m, _n in prod.cache_sample(ctx, cache)]
        ctx.status("ours: store.record_outcome")
        ours = prod.time_record_outcome(ctx, cache, ours_ids)
    except NotReady as exc:
        row.missing = True
        row.note = f"not implemented yet: {exc}"
    row.metrics = [metric("commit", ours, floor_c, 0.005)]
    return row
