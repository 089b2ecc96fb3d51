"""What a territory design job reads from this service's own tables: located accounts and a sales force's reps.

Read-only queries in their own module (no unit of work: nothing is written, no event is emitted).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assignment_service.db.records import AccountRecord, RepRecord
from assignment_service.db.reps import RepRepository
from assignment_service.domain.design import AccountPoint, SalesRep


class DesignInputReader:
    """The design inputs read from this service's own tables, each read in a short session of its own."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def account_points(self, tenant_id: str) -> list[AccountPoint]:
        return await account_points(self._sessions, tenant_id)

    async def sales_force_reps(self, tenant_id: str, sales_force: str, on: date) -> list[SalesRep]:
        return await sales_force_reps(self._sessions, tenant_id, sales_force, on)


async def account_points(sessions: async_sessionmaker[AsyncSession], tenant_id: str) -> list[AccountPoint]:
    """Every live account that has a location (given, or from its ZIP code when it was upserted)."""
    a = AccountRecord
    q = select(a.lon, a.lat, a.potential, a.workload_hours, a.visits_per_year).where(
        a.tenant_id == tenant_id, a.deleted_at.is_(None), a.lon.is_not(None), a.lat.is_not(None)
    )
    async with sessions() as session:
        rows = (await session.execute(q)).all()
    return [AccountPoint(r.lon, r.lat, r.potential or 0.0, r.workload_hours, r.visits_per_year) for r in rows]


async def sales_force_reps(
    sessions: async_sessionmaker[AsyncSession], tenant_id: str, sales_force: str, on: date
) -> list[SalesRep]:
    """The reps holding a territory of the sales force as primary on ``on``: one territory each, by its code."""
    async with sessions() as session:
        holders = await RepRepository(session).primary_reps(tenant_id, sales_force, on)
        if not holders:
            return []
        reps = {
            r.id: r
            for r in (await session.execute(select(RepRecord).where(RepRecord.id.in_(list(holders.values())))))
            .scalars()
            .all()
        }
    out: list[SalesRep] = []
    seen: set[str] = set()
    for code, rep_id in sorted(holders.items()):
        rep = reps.get(rep_id)
        if rep is None or rep.id in seen:  # a rep holding two territories designs one
            continue
        seen.add(rep.id)
        out.append(SalesRep(rep.external_id, code, rep.home_lon, rep.home_lat, rep.capacity_hours))
    return out
