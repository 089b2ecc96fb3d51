"""Who owns what in a sales force, per territory: the truth other services' projections are checked against."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assignment_service.db.accounts import account_columns
from assignment_service.db.lists import LOOKUP_CHUNK, among
from assignment_service.db.records import AccountRecord, AssignmentRecord, RosterEntryRecord
from assignment_service.db.rows import AnyRow

S = AssignmentRecord.__table__
A = AccountRecord.__table__


async def per_territory(session: AsyncSession, tenant_id: str, sales_force: str) -> list[AnyRow]:
    """Live accounts per owning territory code (null: unassigned): count and potential, summed in SQL."""
    q = (
        select(
            S.c.territory_code,
            func.count().label("accounts"),
            func.coalesce(func.sum(A.c.potential), 0.0).label("potential"),
        )
        .join(A, and_(A.c.tenant_id == S.c.tenant_id, A.c.id == S.c.account_id))
        .where(S.c.tenant_id == tenant_id, S.c.sales_force == sales_force, A.c.deleted_at.is_(None))
        .group_by(S.c.territory_code)
        .order_by(S.c.territory_code)
    )
    return list((await session.execute(q)).all())


async def accounts_in_units(
    session: AsyncSession, tenant_id: str, sales_force: str, unit_ids: Sequence[str], *, with_custom: bool
) -> list[AnyRow]:
    """The live accounts whose current assignment lies in these units, each with that assignment
    (``cur_territory``, ``cur_rep``, ``cur_unit``): one read where a preview would make three."""
    out: list[AnyRow] = []
    current = (
        S.c.territory_code.label("cur_territory"),
        S.c.rep_id.label("cur_rep"),
        S.c.geo_unit_id.label("cur_unit"),
    )
    for start in range(0, len(unit_ids), LOOKUP_CHUNK):
        chunk = unit_ids[start : start + LOOKUP_CHUNK]
        q = (
            select(*account_columns(with_custom), *current)
            .join(A, and_(A.c.tenant_id == S.c.tenant_id, A.c.id == S.c.account_id))
            .where(
                S.c.tenant_id == tenant_id,
                S.c.sales_force == sales_force,
                among(session, S.c.geo_unit_id, chunk),
                A.c.deleted_at.is_(None),
            )
        )
        out += (await session.execute(q)).all()
    return out


async def page_of_owners(
    session: AsyncSession, tenant_id: str, sales_force: str, after: str | None, limit: int
) -> list[AnyRow]:
    """Current assignments of live accounts in account id order after ``after``: a keyset page."""
    q = (
        select(S)
        .join(A, and_(A.c.tenant_id == S.c.tenant_id, A.c.id == S.c.account_id))
        .where(S.c.tenant_id == tenant_id, S.c.sales_force == sales_force, A.c.deleted_at.is_(None))
        .order_by(S.c.account_id)
        .limit(limit)
    )
    if after is not None:
        q = q.where(S.c.account_id > after)
    return list((await session.execute(q)).all())


async def territory_codes_with_roster(session: AsyncSession, tenant_id: str, sales_force: str) -> list[str]:
    E = RosterEntryRecord.__table__
    q = select(E.c.territory_code).where(E.c.tenant_id == tenant_id, E.c.sales_force == sales_force).distinct()
    return sorted((await session.execute(q)).scalars())
