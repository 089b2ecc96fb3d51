"""Reads of quota plans, their segments, and the primary reps a quota goes to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from metrics_service.db import repository
from metrics_service.db.records import (
    AlignmentProjectionRecord,
    QuotaPlanRecord,
    QuotaSegmentRecord,
    RepProjectionRecord,
    RosterEntryProjectionRecord,
)
from metrics_service.domain.quotas import RepRef


async def plan(
    session: AsyncSession, tenant_id: str, sales_force: str, period: str, *, for_update: bool = False
) -> QuotaPlanRecord | None:
    query = select(QuotaPlanRecord).where(
        QuotaPlanRecord.tenant_id == tenant_id,
        QuotaPlanRecord.sales_force == sales_force,
        QuotaPlanRecord.period == period,
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def plans(session: AsyncSession, tenant_id: str, sales_force: str) -> Sequence[QuotaPlanRecord]:
    query = (
        select(QuotaPlanRecord)
        .where(QuotaPlanRecord.tenant_id == tenant_id, QuotaPlanRecord.sales_force == sales_force)
        .order_by(QuotaPlanRecord.starts_on, QuotaPlanRecord.period)
    )
    return (await session.execute(query)).scalars().all()


async def segments(session: AsyncSession, tenant_id: str, sales_force: str, period: str) -> list[QuotaSegmentRecord]:
    query = (
        select(QuotaSegmentRecord)
        .where(
            QuotaSegmentRecord.tenant_id == tenant_id,
            QuotaSegmentRecord.sales_force == sales_force,
            QuotaSegmentRecord.period == period,
        )
        .order_by(QuotaSegmentRecord.starts_on)
    )
    return list((await session.execute(query)).scalars().all())


async def active_alignment(session: AsyncSession, tenant_id: str, sales_force: str) -> AlignmentProjectionRecord | None:
    query = select(AlignmentProjectionRecord).where(
        AlignmentProjectionRecord.tenant_id == tenant_id,
        AlignmentProjectionRecord.sales_force == sales_force,
        AlignmentProjectionRecord.state == "active",
        AlignmentProjectionRecord.deleted.is_(False),
    )
    return (await session.execute(query)).scalars().first()


async def rep_names(session: AsyncSession, tenant_id: str, rep_ids: set[str]) -> dict[str, str | None]:
    """Rep id -> the rep's name, as assignment-service last told it."""
    if not rep_ids:
        return {}
    R = RepProjectionRecord
    rows = await session.execute(select(R.rep_id, R.name).where(R.tenant_id == tenant_id, R.rep_id.in_(rep_ids)))
    return {r.rep_id: r.name for r in rows}


async def primary_reps(session: AsyncSession, tenant_id: str, sales_force: str, on: date) -> dict[str, RepRef]:
    """Territory code -> its primary rep on ``on``, picked as every metric picks it (``repository.rosters``)."""
    primary = (await repository.rosters(session, tenant_id, sales_force, on)).primary
    if not primary:
        return {}
    E = RosterEntryProjectionRecord
    rows = await session.execute(
        select(E.rep_id, E.rep_external_id).where(
            E.tenant_id == tenant_id,
            E.sales_force == sales_force,
            E.rep_id.in_(set(primary.values())),
            E.rep_external_id.is_not(None),
        )
    )
    external = {r.rep_id: r.rep_external_id for r in rows}
    return {code: RepRef(rep_id, external.get(rep_id)) for code, rep_id in primary.items()}
