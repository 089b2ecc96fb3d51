"""Account search as SQL: the conditions of ``GET /v1/accounts`` and of the assignment exports.

Conditions on the account's own fields are read from ``accounts``; the owner conditions (territory, rep,
unassigned) from the account's row in ``assignments`` in one sales force (as ``GET
/v1/sales-forces/{sf}/assignments`` lists them), or in any for a rep without one. Pages are keysets on the account
id, so a page deep in 50,000 accounts costs what the first one does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select

from assignment_service.db.records import AccountRecord, AssignmentRecord, HistoryRecord, RepRecord

A = AccountRecord.__table__
S = AssignmentRecord.__table__
H = HistoryRecord.__table__
R = RepRecord.__table__


@dataclass(frozen=True)
class AccountSearch:
    """Live accounts that meet every condition given (None: any)."""

    name: str | None = None  # a substring of the name, ignoring case
    external_id: str | None = None  # exactly
    industry: str | None = None  # equal, ignoring case (as rules and the bulk delete compare it)
    potential_min: float | None = None  # inclusive; an account with no potential meets no bound
    potential_max: float | None = None
    sales_force: str | None = None  # where the owner conditions below look
    territory_code: str | None = None  # assigned to this territory in ``sales_force``
    rep_id: str | None = None  # assigned to this rep (internal id), in ``sales_force`` or else in any
    unassigned: bool | None = None  # True: the account's row in ``sales_force`` has no territory; False: it has one
    visible_to_rep: str | None = None  # the calling rep's internal id: only accounts assigned to them, anywhere
    # The tenant's sales forces, where "assigned to a rep in any sales force" looks: named, each account's row in
    # each is a primary key lookup (tenant, sales force, account), whatever plan the database picks.
    every_sales_force: tuple[str, ...] | None = None


def _on_account(where: AccountSearch) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if where.name is not None:
        out.append(A.c.name.icontains(where.name, autoescape=True))
    if where.external_id is not None:
        out.append(A.c.external_id == where.external_id)
    if where.industry is not None:
        out.append(func.lower(A.c.industry) == where.industry.lower())
    if where.potential_min is not None:
        out.append(A.c.potential >= where.potential_min)
    if where.potential_max is not None:
        out.append(A.c.potential <= where.potential_max)
    return out


def _assigned(tenant_id: str, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return A.c.id.in_(select(S.c.account_id).where(S.c.tenant_id == tenant_id, *conditions))


def search_conditions(tenant_id: str, where: AccountSearch, dialect: str) -> list[ColumnElement[bool]]:
    """The conditions on ``accounts`` (live, the tenant's) for ``where``, for a page in id order.

    Owner conditions that pick few accounts (a territory, a rep, the unassigned) are an ``IN`` over the
    assignments, read through their (tenant, sales force, territory) index or primary key; a broad one
    (``unassigned=false``) is a correlated ``EXISTS``, checked per account while walking the ids, so the walk stops
    at the page's end.
    """
    tenant: ColumnElement[str] = A.c.tenant_id
    if dialect == "sqlite" and where.external_id is None:
        # Compared as an expression, the tenant's (tenant, external id) index is not used: SQLite would read every
        # account of the tenant through it and sort them by id for each page (100 ms at 50,000 accounts, the
        # same for every filter); it walks the primary key in id order instead. An embedded file holds one tenant.
        tenant = tenant.concat("")
    out = [tenant == tenant_id, A.c.deleted_at.is_(None), *_on_account(where)]
    anywhere = [] if where.every_sales_force is None else [S.c.sales_force.in_(where.every_sales_force)]
    if where.visible_to_rep is not None:
        out.append(_assigned(tenant_id, *anywhere, S.c.rep_id == where.visible_to_rep))
    if where.sales_force is None:
        if where.rep_id is not None:
            out.append(_assigned(tenant_id, *anywhere, S.c.rep_id == where.rep_id))
        return out
    owned: list[ColumnElement[bool]] = []
    if where.territory_code is not None:
        owned.append(S.c.territory_code == where.territory_code)
    if where.rep_id is not None:
        owned.append(S.c.rep_id == where.rep_id)
    if where.unassigned is True:
        owned.append(S.c.territory_code.is_(None))
    if owned:
        out.append(_assigned(tenant_id, S.c.sales_force == where.sales_force, *owned))
    if where.unassigned is False:
        out.append(
            exists().where(
                S.c.tenant_id == tenant_id,
                S.c.sales_force == where.sales_force,
                S.c.account_id == A.c.id,
                S.c.territory_code.is_not(None),
            )
        )
    return out


def assignment_conditions(tenant_id: str, sales_force: str, where: AccountSearch) -> list[ColumnElement[bool]]:
    """The conditions on ``assignments`` joined to ``accounts``, for the rows of one sales force.

    A rep sees the rows that name them as the rep (``visible_to_rep``), the rows of a sales force they hold.
    """
    out = [S.c.tenant_id == tenant_id, S.c.sales_force == sales_force, A.c.deleted_at.is_(None), *_on_account(where)]
    if where.visible_to_rep is not None:
        out.append(S.c.rep_id == where.visible_to_rep)
    if where.territory_code is not None:
        out.append(S.c.territory_code == where.territory_code)
    if where.rep_id is not None:
        out.append(S.c.rep_id == where.rep_id)
    if where.unassigned is True:
        out.append(S.c.territory_code.is_(None))
    elif where.unassigned is False:
        out.append(S.c.territory_code.is_not(None))
    return out


def assignment_rows(
    tenant_id: str, sales_force: str, where: AccountSearch, after: str | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """A page of a sales force's assignments with what an export shows, in account id order after ``after``.

    ``assigned_since``: when the account got its current territory and rep, the latest change in its history
    (the index on (tenant, account, seq) finds an account's few history rows).
    """
    since = (
        select(func.max(H.c.changed_at))
        .where(H.c.tenant_id == S.c.tenant_id, H.c.account_id == S.c.account_id, H.c.sales_force == S.c.sales_force)
        .scalar_subquery()
    )
    q = (
        select(
            S.c.account_id,
            A.c.external_id.label("account_external_id"),
            A.c.name.label("account_name"),
            S.c.territory_code,
            R.c.external_id.label("rep_external_id"),
            R.c.name.label("rep_name"),
            S.c.cause,
            S.c.by_geography,
            A.c.potential,
            since.label("assigned_since"),
        )
        .select_from(S.join(A, A.c.id == S.c.account_id).outerjoin(R, R.c.id == S.c.rep_id))
        .where(*assignment_conditions(tenant_id, sales_force, where))
    )
    if after is not None:
        q = q.where(S.c.account_id > after)
    return q.order_by(S.c.account_id).limit(limit)
