"""The order a run measures its rows in, and when each copied store can be deleted.

At a million customers the run's copies are big: the synced client cache (11 GB), the central
store (11 GB), the PostgreSQL data folder (about as much) and the cache P8's first sync fills
(about a tenth). Rows that share a copy run back to back, and a copy is deleted as soon as no
later row needs it, so at most the client cache, the central store and the P8 cache are on disk
at once; P10 and P12 measure SQLite first, then the central copy goes before the PostgreSQL copy
is made.
The table still lists the rows in their usual order.

Resources (see :meth:`bench.context.Ctx.resource`):

* ``client``: the run's copy of the synced cache with every session on it (the app processes
  of P5 and P11 open the same copy);
* ``central``: the copy of the central SQLite store and the service serving it;
* ``scope``: the fresh cache P8's first sync fills, P9's device B;
* ``pg``: the copy of the PostgreSQL data folder and its cluster and service.
"""

from __future__ import annotations

__all__ = [
    "NEEDS",
    "ORDER",
    "PARTS",
    "SCALING",
    "releases",
    "resource_key",
    "row_of",
    "run_order",
]

SCALING = "scaling"  # the scaling table's figures at the run's own size (its other sizes: last)

NEEDS: dict[str, frozenset[str]] = {
    "P1": frozenset({"client"}),
    "P2": frozenset({"client"}),
    "P3": frozenset({"client"}),
    "P6": frozenset({"client"}),
    "E1": frozenset({"client"}),
    # the app processes start on the cache before P4 and P7 leave outcomes in its outbox
    "P5": frozenset({"client", "central"}),
    "P11": frozenset({"client", "central"}),
    "P4": frozenset({"client"}),
    "P7": frozenset({"client", "central"}),
    SCALING: frozenset({"client", "central"}),
    "P8": frozenset({"central", "scope"}),
    "P9": frozenset({"client", "central", "scope"}),
    # P10 and P12 measure SQLite, then (its copy deleted) PostgreSQL: never both copies at once
    "P10.sqlite": frozenset({"central"}),
    "P12.sqlite": frozenset({"central"}),
    "P10.pg": frozenset({"pg"}),
    "P12.pg": frozenset({"pg"}),
}
ORDER: tuple[str, ...] = tuple(NEEDS)
PARTS: dict[str, tuple[str, ...]] = {
    "P10": ("P10.sqlite", "P10.pg"),
    "P12": ("P12.sqlite", "P12.pg"),
}


def run_order(steps: list[str]) -> list[str]:
    """``steps`` (rows split into their :data:`PARTS`) in :data:`ORDER`.

    Steps it does not know keep their order, at the end.
    """
    wanted = [part for step in steps for part in PARTS.get(step, (step,))]
    known = [s for s in ORDER if s in wanted]
    return known + [s for s in wanted if s not in NEEDS]


def row_of(step: str) -> str:
    """The row a step belongs to (``P10.pg`` → ``P10``)."""
    return step.split(".", 1)[0]


def releases(order: list[str]) -> list[list[str]]:
    """For each step of ``order``, the resources to release once it is done.

    A resource goes right after the last step that needs it.
    """
    last: dict[str, int] = {}
    for i, step in enumerate(order):
        for res in NEEDS.get(step, frozenset()):
            last[res] = i
    out: list[list[str]] = [[] for _ in order]
    for res, i in last.items():
        out[i].append(res)
    return [sorted(names) for names in out]


def resource_key(name: str, customers: int) -> str:
    """The run's key of a resource: copies of the stores of one size carry the size."""
    return f"{name}-{customers}" if name in ("client", "central") else name
