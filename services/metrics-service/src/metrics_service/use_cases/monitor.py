"""Monitoring of active alignments: drift out of balance (told through the outbox) and snapshots over time."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.events.metrics import TerritoryOutOfBalanceV1

from metrics_service.db import repository
from metrics_service.db.records import AlignmentProjectionRecord, BalanceAlertRecord, BalanceFlagRecord, SnapshotRecord
from metrics_service.db.unit_of_work import UnitOfWork
from metrics_service.domain.alignment import AlignmentModel, TerritoryMetrics
from metrics_service.domain.analysis import balance_report, level_rows
from metrics_service.use_cases.models import ModelCache

log = logging.getLogger(__name__)


async def check_balance(
    uow: UnitOfWork,
    model: AlignmentModel,
    alignment: AlignmentProjectionRecord,
    metrics: Sequence[str],
    tolerance: float,
) -> int:
    """Record which leaf territories are out of tolerance; emit an event for each one newly out (the caller
    commits). Returns how many."""
    session = uow.session
    rows = level_rows(model.territory_metrics(), None)
    flags = await repository.balance_flags(session, alignment.alignment_id)
    now = datetime.now(UTC)
    emitted = 0
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
                event = uow.emit(alignment.tenant_id, t["territory_id"], data)
                emitted += 1
                # The alert as listed over HTTP, open until the territory comes back within tolerance.
                session.add(
                    BalanceAlertRecord(id=event.id, tenant_id=alignment.tenant_id, detected_at=now, **data.model_dump())
                )
            elif not out and flag.out_of_balance:
                await repository.resolve_alert(session, alignment.alignment_id, t["territory_id"], metric, now)
            if out != flag.out_of_balance:
                flag.out_of_balance, flag.changed_at = out, now
            flag.deviation_pct = t["deviation_pct"]
    return emitted


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
    if await repository.snapshot_taken(session, alignment.alignment_id, reason, day):
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


async def monitor_once(
    unit_of_work: Callable[[], UnitOfWork], cache: ModelCache, metrics: Sequence[str], tolerance: float
) -> int:
    """Daily snapshots of active alignments and drift checks (accounts and rosters change them), an alignment per
    transaction; returns how many events were emitted."""
    emitted = 0
    now = datetime.now(UTC)
    async with unit_of_work() as uow:
        active = [(a.tenant_id, a.alignment_id) for a in await repository.alignments(uow.session, state="active")]
    for tenant_id, alignment_id in active:
        async with unit_of_work() as uow:
            row = await repository.alignment(uow.session, tenant_id, alignment_id)
            if row is None or row.state != "active":
                continue
            model = await cache.model(uow.session, tenant_id, alignment_id)
            await take_snapshot(uow.session, model, row, "daily", now)
            emitted += await check_balance(uow, model, row, metrics, tolerance)
            await uow.commit()
    return emitted
