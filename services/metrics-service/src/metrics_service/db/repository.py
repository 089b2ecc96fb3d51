"""Reads of the projections that the metrics are computed from."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from metrics_service.db.records import (
    AccountProjectionRecord,
    AlignmentProjectionRecord,
    LayerProjectionRecord,
    MembershipRecord,
    RepProjectionRecord,
    RosterRecord,
    TenantRevisionRecord,
    TerritoryProjectionRecord,
    UnitProjectionRecord,
)
from metrics_service.domain.accounts import account_sums
from metrics_service.domain.alignment import TerritoryNode
from metrics_service.domain.layer import LayerData
from metrics_service.domain.travel import Rep
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession


async def alignment(session: AsyncSession, tenant_id: str, alignment_id: str) -> AlignmentProjectionRecord | None:
    row = await session.get(AlignmentProjectionRecord, alignment_id)
    return row if row is not None and row.tenant_id == tenant_id and not row.deleted else None


async def alignments(
    session: AsyncSession, tenant_id: str | None = None, state: str | None = None
) -> Sequence[AlignmentProjectionRecord]:
    query = select(AlignmentProjectionRecord).where(AlignmentProjectionRecord.deleted.is_(False))
    if tenant_id is not None:
        query = query.where(AlignmentProjectionRecord.tenant_id == tenant_id)
    if state is not None:
        query = query.where(AlignmentProjectionRecord.state == state)
    return (await session.execute(query.order_by(AlignmentProjectionRecord.alignment_id))).scalars().all()


async def layer_data(session: AsyncSession, tenant_id: str, layer_id: str) -> LayerData | None:
    layer = await session.get(LayerProjectionRecord, layer_id)
    if layer is None or layer.tenant_id != tenant_id:
        return None
    rows = (
        await session.execute(
            select(UnitProjectionRecord.unit_id, UnitProjectionRecord.attributes, UnitProjectionRecord.wkb)
            .where(UnitProjectionRecord.layer_id == layer_id)
            .order_by(UnitProjectionRecord.idx)
        )
    ).all()
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows]) if rows else np.zeros(0, dtype=object)
    return LayerData.build(layer_id, [r.unit_id for r in rows], [r.attributes for r in rows], geoms, layer.attributes)


async def memberships(
    session: AsyncSession, tenant_id: str, alignment_id: str, after_revision: int = 0
) -> dict[str, str | None]:
    # Memberships carry no tenant of their own: their alignment's says whose they are.
    rows = await session.execute(
        select(MembershipRecord.unit_id, MembershipRecord.territory_id)
        .join(AlignmentProjectionRecord, AlignmentProjectionRecord.alignment_id == MembershipRecord.alignment_id)
        .where(
            AlignmentProjectionRecord.tenant_id == tenant_id,
            MembershipRecord.alignment_id == alignment_id,
            MembershipRecord.revision > after_revision,
        )
    )
    return {r.unit_id: r.territory_id for r in rows}


async def territories(session: AsyncSession, tenant_id: str, alignment_id: str) -> list[TerritoryNode]:
    rows = (
        await session.execute(
            select(TerritoryProjectionRecord).where(
                TerritoryProjectionRecord.tenant_id == tenant_id,
                TerritoryProjectionRecord.alignment_id == alignment_id,
                TerritoryProjectionRecord.deleted.is_(False),
            )
        )
    ).scalars()
    return [TerritoryNode(r.territory_id, r.code, r.name, r.parent_id) for r in rows]


async def tenant_revision(session: AsyncSession, tenant_id: str) -> tuple[int, int]:
    row = await session.get(TenantRevisionRecord, tenant_id)
    return (row.accounts, row.rosters) if row is not None else (0, 0)


async def with_accounts(session: AsyncSession, tenant_id: str, layer: LayerData) -> LayerData:
    """The layer with its per-unit account sums, when the tenant has accounts."""
    rows = (
        await session.execute(
            select(AccountProjectionRecord.lon, AccountProjectionRecord.lat, AccountProjectionRecord.values).where(
                AccountProjectionRecord.tenant_id == tenant_id,
                AccountProjectionRecord.deleted.is_(False),
                AccountProjectionRecord.lon.is_not(None),
                AccountProjectionRecord.lat.is_not(None),
            )
        )
    ).all()
    if not rows:
        return layer
    fields = sorted({k for r in rows for k in r.values})
    values = {f: np.array([float(r.values.get(f) or 0.0) for r in rows]) for f in fields}
    names, sums, _ = account_sums(layer, np.array([r.lon for r in rows]), np.array([r.lat for r in rows]), values)
    return layer.with_sums(names, sums)


async def rosters(session: AsyncSession, tenant_id: str, sales_force: str) -> dict[str, list[Rep]]:
    """Territory code -> its reps (the owners of its accounts)."""
    rows = (
        await session.execute(
            select(RosterRecord.territory_code, RepProjectionRecord)
            .join(RepProjectionRecord, RepProjectionRecord.rep_id == RosterRecord.rep_id)
            .where(
                RosterRecord.tenant_id == tenant_id,
                RepProjectionRecord.tenant_id == tenant_id,
                RosterRecord.sales_force == sales_force,
                RosterRecord.accounts > 0,
            )
        )
    ).all()
    out: dict[str, list[Rep]] = {}
    for code, rep in rows:
        out.setdefault(code, []).append(Rep(rep.rep_id, rep.home_lon, rep.home_lat, rep.capacity_hours))
    return out
