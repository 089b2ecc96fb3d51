"""Accounts counted on a grid of square cells (in degrees), for a map: one row per cell holding accounts.

The grid is computed by the database (an integer cell index per account, then GROUP BY), so a map of millions of
accounts receives a few hundred rows, never the accounts. Indices are taken on non-negative micro-degrees, where
integer division is the floor on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assignment_service.db.records import AccountRecord
from assignment_service.db.rows import AnyRow

A = AccountRecord.__table__
MICRO = 1_000_000


async def account_clusters(
    session: AsyncSession, tenant_id: str, cell_deg: float, bbox: tuple[float, float, float, float] | None
) -> Sequence[AnyRow]:
    """Per occupied cell: its accounts' mean position, number (``accounts``), summed potential, and (for a lone
    account) its id and name."""
    size = max(1, round(cell_deg * MICRO))
    col = cast((A.c.lon + 180) * MICRO, BigInteger) // size
    row = cast((A.c.lat + 90) * MICRO, BigInteger) // size
    conditions = [
        A.c.tenant_id == tenant_id,
        A.c.deleted_at.is_(None),
        A.c.lat.is_not(None),
        A.c.lon.is_not(None),
    ]
    if bbox is not None:
        west, south, east, north = bbox
        conditions += [A.c.lon >= west, A.c.lon <= east, A.c.lat >= south, A.c.lat <= north]
    q = (
        select(
            func.avg(A.c.lon).label("lon"),
            func.avg(A.c.lat).label("lat"),
            func.count().label("accounts"),  # not "count": a row has a count() method
            func.coalesce(func.sum(A.c.potential), 0).label("potential"),
            func.min(A.c.external_id).label("external_id"),
            func.min(A.c.name).label("name"),
        )
        .where(*conditions)
        .group_by(col, row)
    )
    return (await session.execute(q)).all()
