"""Who may see which customer (docs/domain.md, roles), enforced on every endpoint.

* ``call_centre`` and ``store``: customers whose ``region_code`` is one of the user's regions;
* ``field``: only the customers of the user's portfolio;
* ``supervisor`` / ``admin``: their regions, or every customer when they have none.

An unknown customer is 404 ``not_found``, an existing one out of scope 403 ``forbidden``.
Merged-away ids are followed through ``customer_redirect`` to the kept customer. In a lookup by id
(:func:`find_customer`) the redirect wins over a row still stored under the merged-away id (a stale
row: an import before redirects were honoured could write one), so such a lookup never reaches a
customer without the merged history. :func:`customer_scope` (lists, search, the pull) filters
``customer`` rows and still returns a stale row as a customer of its own, until ``agentdesk-sync
merge KEEP OLD`` runs again and folds it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk_sync.auth import Principal
from agentdesk_sync.db.models import ChangeLog, Customer, CustomerRedirect, Portfolio
from agentdesk_sync.db.redirects import follow_redirects
from agentdesk_sync.errors import ApiError

__all__ = [
    "CustomerRef",
    "change_scope",
    "customer_scope",
    "find_customer",
    "forbidden",
    "load_customer",
    "lookup_customer",
    "not_found",
    "resolve_redirect",
    "scope_params",
    "visible_clause",
]


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """A customer as the scope check found it.

    Attributes:
        customer_id: The kept id (after redirects).
        region_code: The customer's region.
        row: The stored wire row (attributes, value, churn).
        row_seq: server_seq of the customer's last change.
        in_scope: Whether the principal may see it.
    """

    customer_id: str
    region_code: str
    row: dict[str, Any]
    row_seq: int
    in_scope: bool


def not_found(customer_id: str) -> ApiError:
    """404 ``not_found`` for a customer id."""
    return ApiError(404, "not_found", "No such customer.", {"customer_id": customer_id})


def forbidden(message: str = "This customer is outside your scope.", **details: Any) -> ApiError:
    """403 ``forbidden``."""
    return ApiError(403, "forbidden", message, details)


def _portfolio_of(principal: Principal) -> Any:
    return select(Portfolio.customer_id).where(Portfolio.user_id == principal.user_id)


def customer_scope(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over ``customer`` that keeps the principal's customers."""
    if principal.uses_portfolio:
        return Customer.customer_id.in_(_portfolio_of(principal))
    if principal.sees_all:
        return true()
    return Customer.region_code.in_(principal.regions)


def change_scope(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over ``change_log`` keeping global rows and the principal's customers."""
    if principal.sees_all:
        return true()
    is_global = and_(ChangeLog.region_code.is_(None), ChangeLog.customer_id.is_(None))
    if principal.uses_portfolio:
        return or_(is_global, ChangeLog.customer_id.in_(_portfolio_of(principal)))
    return or_(is_global, ChangeLog.region_code.in_(principal.regions))


def _scope_kind(principal: Principal) -> str:
    if principal.uses_portfolio:
        return "portfolio"
    return "all" if principal.sees_all else "regions"


def scope_params(principal: Principal) -> tuple[str, dict[str, Any]]:
    """The scope kind of ``principal`` and the parameters its prepared statements need."""
    kind = _scope_kind(principal)
    params: dict[str, Any] = {}
    if kind == "portfolio":
        params["uid"] = principal.user_id
    elif kind == "regions":
        params["regions"] = list(principal.regions)
    return kind, params


def visible_clause(kind: str) -> ColumnElement[bool]:
    """Whether ``customer`` is visible, for a scope kind (parameters ``uid`` / ``regions``)."""
    visible: ColumnElement[bool]
    if kind == "portfolio":
        visible = exists().where(
            Portfolio.user_id == bindparam("uid"), Portfolio.customer_id == Customer.customer_id
        )
    elif kind == "all":
        visible = literal(True)
    else:
        visible = Customer.region_code.in_(bindparam("regions", expanding=True))
    return visible


_REDIRECT = select(CustomerRedirect.new_id).where(CustomerRedirect.old_id == bindparam("old"))


@functools.cache
def _customer_stmt(kind: str) -> Select[Any]:
    """The prepared customer lookup (built once per scope kind; parameters bound at execute):
    the customer ``cid`` redirects to when it was merged away, else ``cid`` itself."""
    cols = (Customer.customer_id, Customer.region_code, Customer.row, Customer.row_seq)
    visible = visible_clause(kind).label("visible")
    redirect = select(CustomerRedirect.new_id).where(CustomerRedirect.old_id == bindparam("cid"))
    wanted = func.coalesce(redirect.scalar_subquery(), bindparam("cid"))
    return select(*cols, visible).where(Customer.customer_id == wanted)


def resolve_redirect(conn: Connection, customer_id: str) -> str | None:
    """The kept id of a merged-away customer id, or None when ``customer_id`` was never merged."""

    def fetch(pending: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for old in pending:  # one id per hop
            new_id = conn.execute(_REDIRECT, {"old": old}).scalar_one_or_none()
            if new_id is not None:
                found[old] = new_id
        return found

    return follow_redirects(fetch, (customer_id,)).get(customer_id)


def find_customer(conn: Connection, principal: Principal, customer_id: str) -> CustomerRef | None:
    """Find a customer (following redirects, which win over a stale row of a merged-away id)
    and whether ``principal`` may see it.

    Args:
        conn: Connection inside the caller's transaction.
        principal: Who asks.
        customer_id: Requested id, possibly merged away.

    Returns:
        The customer, or None when it does not exist.
    """
    kind, params = scope_params(principal)
    stmt = _customer_stmt(kind)
    for _ in range(2):  # one statement follows one hop; a longer chain (rare) is walked first
        row = conn.execute(stmt, {**params, "cid": customer_id}).first()
        if row is not None:
            return CustomerRef(
                row.customer_id, row.region_code, row.row, row.row_seq, bool(row.visible)
            )
        kept = resolve_redirect(conn, customer_id)
        if kept is None:
            return None
        customer_id = kept
    return None


async def lookup_customer(
    conn: AsyncConnection, principal: Principal, customer_id: str
) -> CustomerRef | None:
    """:func:`find_customer` on an async connection."""
    return await conn.run_sync(find_customer, principal, customer_id)


async def load_customer(
    conn: AsyncConnection, principal: Principal, customer_id: str
) -> CustomerRef:
    """Like :func:`lookup_customer`, raising 404/403 instead of returning a miss.

    Raises:
        ApiError: 404 ``not_found`` or 403 ``forbidden``.
    """
    ref = await lookup_customer(conn, principal, customer_id)
    if ref is None:
        raise not_found(customer_id)
    if not ref.in_scope:
        raise forbidden(customer_id=customer_id)
    return ref
