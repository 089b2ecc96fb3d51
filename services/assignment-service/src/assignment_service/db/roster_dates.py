"""Roster entries whose first day or end has come and whose territory was not recomputed for it yet."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assignment_service.db.records import RosterEntryRecord

E = RosterEntryRecord.__table__


def _start_due(today: date) -> ColumnElement[bool]:
    return and_(E.c.start_applied_at.is_(None), E.c.effective_from <= today)


def _end_due(today: date) -> ColumnElement[bool]:
    return and_(E.c.end_applied_at.is_(None), E.c.effective_to.is_not(None), E.c.effective_to <= today)


async def due_territories(session: AsyncSession, today: date, limit: int) -> list[tuple[str, str, str]]:
    """(tenant, sales force, territory code) with an entry whose start or end is due, oldest date first."""
    q = (
        select(E.c.tenant_id, E.c.sales_force, E.c.territory_code)
        .where(or_(_start_due(today), _end_due(today)))
        .group_by(E.c.tenant_id, E.c.sales_force, E.c.territory_code)
        .order_by(E.c.tenant_id, E.c.sales_force, E.c.territory_code)
        .limit(limit)
    )
    return [(r.tenant_id, r.sales_force, r.territory_code) for r in await session.execute(q)]


async def claim(
    session: AsyncSession, tenant_id: str, sales_force: str, territory_code: str, today: date, now: datetime
) -> list[str]:
    """Mark the territory's due starts and ends applied; answer the roles of the entries marked.

    A conditional UPDATE: on PostgreSQL a second transaction claiming the same rows waits for the first's row
    locks, then finds them marked and claims nothing, so a date is applied once however many workers run; a
    rollback (a crash before the commit) unmarks them for the next pass.
    """
    territory = and_(E.c.tenant_id == tenant_id, E.c.sales_force == sales_force, E.c.territory_code == territory_code)
    started = await session.execute(
        update(E).where(territory, _start_due(today)).values(start_applied_at=now).returning(E.c.role)
    )
    roles = list(started.scalars())
    ended = await session.execute(
        update(E).where(territory, _end_due(today)).values(end_applied_at=now).returning(E.c.role)
    )
    return roles + list(ended.scalars())
