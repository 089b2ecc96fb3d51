"""The overrides in force in a sales force, page by page, with the names a planner reads them by."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assignment_service.db.records import AccountRecord, OverrideRecord, RepRecord
from assignment_service.db.rows import AnyRow

A = AccountRecord.__table__
O = OverrideRecord.__table__  # noqa: E741 - table alias
R = RepRecord.__table__


async def overrides_page(
    session: AsyncSession, tenant_id: str, sales_force: str, after: str | None, limit: int
) -> Sequence[AnyRow]:
    """Overrides not removed, in account external id order after ``after`` (one per account: a keyset).

    An override of a deleted account is listed too: it still holds should the account come back.
    """
    q = (
        select(
            O.c.id,
            O.c.sales_force,
            A.c.external_id.label("account_external_id"),
            O.c.territory_code,
            O.c.rep_id,
            R.c.external_id.label("rep_external_id"),
            O.c.note,
            O.c.created_at,
            O.c.created_by,
        )
        .select_from(O.join(A, A.c.id == O.c.account_id).outerjoin(R, R.c.id == O.c.rep_id))
        .where(O.c.tenant_id == tenant_id, O.c.sales_force == sales_force, O.c.removed_at.is_(None))
    )
    if after is not None:
        q = q.where(A.c.external_id > after)
    return (await session.execute(q.order_by(A.c.external_id).limit(limit))).all()
