"""E1 policy + recommendations for one customer, on the client, offline.

Ours: for random customers of the client cache the inputs are loaded once, untimed, with the
store repositories the open-customer use case calls (view, 120-day history, offers and
campaigns, rules, the customer's valid claim); then only ``agentdesk.policy.evaluate`` for the
user's channel plus ``agentdesk.recommend.recommend`` are timed, called as
``CustomerService.open`` calls them. Floor: one pure-Python pass over the same inputs (history,
offers, campaigns, targets, claims), computing nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import product as prod
from bench.client import Client
from bench.context import Ctx, NotReady, metric, product
from bench.measure import Stat, repeat
from bench.report import Row

__all__ = ["e1"]

HISTORY_WINDOW = timedelta(days=120)
MIN_REPS = 500


def _inputs(cache: Client, ids: list[str], now: datetime) -> tuple[list[Any], Any]:
    """Per customer (view, history, offers, campaigns, targets, claims), and the rule set."""
    with product("agentdesk.store.customer_repo / agentdesk.policy"):
        from agentdesk.policy import RuleSet, default_rules
        from agentdesk.store import customer_repo
    loaded_inputs: list[Any] = []
    with cache.services.db.reader() as conn:
        offers, campaigns = customer_repo.load_offers_and_campaigns(conn)
        loaded = customer_repo.load_rules(conn)
        active = [c for c in campaigns if c.active_at(now)]
        live = {c.campaign_id for c in active}
        live_offers = [o for o in offers if o.campaign_id in live]
        for cid in ids:
            bundle = customer_repo.load_customer_view(conn, cid)
            if bundle is None:
                continue
            history = customer_repo.load_history(conn, cid, now - HISTORY_WINDOW)
            claim = bundle.active_claim
            claims = (claim,) if claim is not None and claim.valid_at(now) else ()
            loaded_inputs.append(
                (bundle.view, history, live_offers, active, list(bundle.targets), claims)
            )
    rules = RuleSet.from_dict(loaded.rules) if loaded else default_rules()
    if not loaded_inputs:
        raise NotReady("no sampled customer found in the client cache")
    return loaded_inputs, rules


def _ours(cache: Client, inputs: list[Any], rules: Any, now: datetime) -> Callable[[int], Any]:
    with product("agentdesk.policy.evaluate / agentdesk.recommend.recommend"):
        from agentdesk.domain import Channel
        from agentdesk.policy import evaluate
        from agentdesk.recommend import recommend
    session = cache.session
    channel = session.channel or Channel.OUTBOUND_CALL
    user_id = session.user.user_id

    def run(i: int) -> Any:
        view, history, offers, campaigns, targets, claims = inputs[i % len(inputs)]
        decision = evaluate(
            view.attributes, channel, None, history, claims, rules, now, user_id=user_id,
            inbound=channel.customer_initiated, targets=targets, campaigns=campaigns,
        )  # fmt: skip
        result = recommend(
            view, channel, offers, campaigns, targets, history, claims, rules, now,
            user_id=user_id,
        )  # fmt: skip
        return decision, result

    return run


def _floor(inputs: list[Any]) -> Callable[[int], int]:
    def run(i: int) -> int:
        _view, history, offers, campaigns, targets, claims = inputs[i % len(inputs)]
        seen = 0
        for seq in (history, offers, campaigns, targets, claims):
            for _item in seq:
                seen += 1
        return seen

    return run


def _volume(inputs: list[Any]) -> str:
    n = len(inputs)
    hist = sum(len(x[1]) for x in inputs) / n
    targets = sum(len(x[4]) for x in inputs) / n
    return (
        f"{n} customers, per customer {hist:.1f} contacts in 120 d, {len(inputs[0][2])} live "
        f"offers, {len(inputs[0][3])} active campaigns, {targets:.1f} targets"
    )


def e1(ctx: Ctx) -> Row:
    """E1: policy verdict + recommendations for one customer (pure computation, offline)."""
    row = Row("E1", "policy + recommendations for one customer (client, offline)", "≤ 2 ms")
    reps = max(MIN_REPS, ctx.reps)
    ours: Stat | None = None
    floor: Stat | None = None
    row.note = (
        f"evaluate (user's channel) + recommend, inputs preloaded, {reps} reps over random "
        "customers; floor = one pure-Python pass over the same history/offers/campaigns/"
        "targets/claims"
    )
    try:
        cache = prod.client_cache(ctx)
        ids = [cid for cid, _m, _n in prod.cache_sample(ctx, cache)]
        now = datetime.now(UTC)
        ctx.status("loading inputs (untimed)")
        inputs, rules = _inputs(cache, ids, now)
        ctx.status("floor: pure-Python pass over the inputs")
        floor = repeat(_floor(inputs), reps, warmup=50)
        ctx.status("ours: evaluate + recommend")
        ours = repeat(_ours(cache, inputs, rules, now), reps, warmup=50)
        row.note += "; " + _volume(inputs)
    except NotReady as exc:
        row.missing = True
        row.note = f"not implemented yet: {exc}"
    row.metrics = [metric("compute", ours, floor, 0.002)]
    return row
