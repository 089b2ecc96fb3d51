"""Monitoring of active alignments: drift out of balance (told through the outbox) and snapshots over time."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.audit import add_to_audit
from territory_shared.events.envelope import new_event
from territory_shared.events.metrics import TerritoryOutOfBalanceV1
from territory_shared.messaging.outbox import add_to_outbox

from metrics_service.db.records import (
    OUTBOX,
    AlignmentProjectionRecord,
    BalanceAlertRecord,
    BalanceFlagRecord,
    SnapshotRecord,
)
from metrics_service.domain.alignment import AlignmentModel, TerritoryMetrics
from metrics_service.domain.analysis import balance_report, level_rows

log = logging.getLogger(__name__)
SOURCE = "/metrics-service"


async def check_balance(
    session: AsyncSession,
    model: AlignmentModel,
    alignment: AlignmentProjectionRecord,
    metrics: Sequence[str],
    tolerance: float,
    correlation_id: str | None = None,
) -> int:
    """Record which leaf territories are out of tolerance; emit an event for each one newly out. Returns how many."""
    rows = level_rows(model.territory_metrics(), None)
    flags = {
        (f.territory_id, f.metric): f
        for f in (
            await session.execute(
                select(BalanceFlagRecord).where(BalanceFlagRecord.alignment_id == alignment.alignment_id)
            )
        ).scalars()
    }
    now = datetime.now(UTC)
    events = []
    for metric in [m for m in metrics if m in model.layer.column]:
        report = balance_report(rows, metric, tolerance, None)
        if report.target == 0:
            continue
        for t in report.territories:
            out = not t["within_tolerance"]
            flag = flags.get((t["territory_id"], metric))
            if flag is None:
                flag = BalanceFlagRecord(
                    alignment_id=alignment.alignment_id,
                    territory_id=t["territory_id"],
                    metric=metric,
                    out_of_balance=False,
                    deviation_pct=None,
                    changed_at=now,
                )
                session.add(flag)
            if out and not flag.out_of_balance:
                data = TerritoryOutOfBalanceV1(
                    alignment_id=alignment.alignment_id,
                    sales_force=alignment.sales_force,
                    territory_id=t["territory_id"],
                    territory_code=t["code"],
                    metric=metric,
                    value=t["value"],
                    target=report.target,
                    deviation_pct=t["deviation_pct"] or 0.0,
                    tolerance_pct=tolerance * 100,
                )
                event = new_event(
                    source=SOURCE,
                    type="metrics.territory.out_of_balance_detected.v1",
                    subject=t["territory_id"],
                    tenant_id=alignment.tenant_id,
                    correlation_id=correlation_id,
                    data=data,
                )
                events.append(event)
                # The alert as listed over HTTP, open until the territory comes back within tolerance.
                session.add(
                    BalanceAlertRecord(id=event.id, tenant_id=alignment.tenant_id, detected_at=now, **data.model_dump())
                )
            elif not out and flag.out_of_balance:
                await session.execute(
                    update(BalanceAlertRecord)
                    .where(
                        BalanceAlertRecord.alignment_id == alignment.alignment_id,
                        BalanceAlertRecord.territory_id == t["territory_id"],
                        BalanceAlertRecord.metric == metric,
                        BalanceAlertRecord.resolved_at.is_(None),
                    )
                    .values(resolved_at=now)
                )
            if out != flag.out_of_balance:
                flag.out_of_balance, flag.changed_at = out, now
            flag.deviation_pct = t["deviation_pct"]
    await add_to_outbox(session, OUTBOX, events)
    await add_to_audit(session, events)
    return len(events)


def territory_read(row: TerritoryMetrics) -> dict[str, Any]:
    return {
        "territory_id": row.territory_id,
        "code": row.code,
        "name": row.name,
        "parent_id": row.parent_id,
        "depth": row.depth,
        "leaf": row.leaf,
        "unit_count": row.unit_count,
        "values": row.values,
        "area_km2": row.shape.area_km2,
        "polsby_popper": row.shape.polsby_popper,
        "parts": row.shape.parts,
        "reps": row.reps,
        "primary_rep_id": row.primary_rep_id,
        "capacity_hours": row.capacity_hours,
        "utilization": row.utilization,
        "travel_mean_km": row.travel_mean_km,
        "travel_max_km": row.travel_max_km,
    }


def totals_of(model: AlignmentModel) -> dict[str, float]:
    return {m: float(v) for m, v in zip(model.layer.metrics, model.totals().tolist(), strict=True)}


async def take_snapshot(
    session: AsyncSession, model: AlignmentModel, alignment: AlignmentProjectionRecord, reason: str, at: datetime
) -> bool:
    """Store the alignment's metrics as of ``at``; one per alignment, reason and day. False if already taken."""
    day = at.date().isoformat()
    exists = await session.execute(
        select(SnapshotRecord.id).where(
            SnapshotRecord.alignment_id == alignment.alignment_id,
            SnapshotRecord.reason == reason,
            SnapshotRecord.day == day,
        )
    )
    if exists.first() is not None:
        return False
    session.add(
        SnapshotRecord(
            id=str(uuid.uuid4()),
            tenant_id=alignment.tenant_id,
            alignment_id=alignment.alignment_id,
            sales_force=alignment.sales_force,
            reason=reason,
            day=day,
            taken_at=at,
            totals=totals_of(model),
            territories=[territory_read(r) for r in model.territory_metrics()],
        )
    )
    return True


async def monitor_once(sessions: Any, cache: Any, metrics: Sequence[str], tolerance: float) -> int:
    """Daily snapshots of active alignments and drift checks (accounts and rosters change them); events emitted."""
    from metrics_service.db import repository

    emitted = 0
    now = datetime.now(UTC)
    async with sessions() as session:
        active = [(a.tenant_id, a.alignment_id) for a in await repository.alignments(session, state="active")]
    for tenant_id, alignment_id in active:
        async with sessions() as session, session.begin():
            row = await repository.alignment(session, tenant_id, alignment_id)
            if row is None or row.state != "active":
                continue
            model = await cache.model(session, tenant_id, alignment_id)
            await take_snapshot(session, model, row, "daily", now)
            emitted += await check_balance(session, model, row, metrics, tolerance)
    return emitted
