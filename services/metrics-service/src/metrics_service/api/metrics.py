"""The metrics API: territory metrics of any alignment, balance, market gap, comparison, what-if, trend."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from territory_shared.api.problems import BadRequest, InvalidInput, NotFound
from territory_shared.api.tenancy import TenantId

from metrics_service.api.schemas import (
    AlignmentMetricsRead,
    AlignmentRead,
    BalanceRead,
    SnapshotPoint,
    TerritoryMetricsRead,
    TrendRead,
    WhatIf,
    WhatIfRead,
)
from metrics_service.db import repository
from metrics_service.db.records import SnapshotRecord
from metrics_service.domain.alignment import AlignmentModel, TerritoryMetrics, UnknownUnits
from metrics_service.domain.analysis import (
    BalanceReport,
    UnknownMetric,
    balance_report,
    check_metric,
    compare,
    level_rows,
    market_gap,
)
from metrics_service.domain.statistics import balance
from metrics_service.use_cases.models import ModelCache
from metrics_service.use_cases.monitor import territory_read, totals_of
from metrics_service.use_cases.what_if import ParentTerritory, UnknownTerritory, what_if

router = APIRouter(prefix="/v1", tags=["metrics"])

Tolerance = Annotated[float, Query(ge=0, le=10, description="Fraction: 0.05 = within 5 % of the target")]
Level = Annotated[int | None, Query(ge=0, description="Balance territories at this depth; the leaves when omitted")]
Target = Annotated[str, Query(description="'mean', or a number", examples=["mean", "1250000"])]


def model_cache(request: Request) -> ModelCache:
    models: ModelCache = request.app.state.models
    return models


Cache = Annotated[ModelCache, Depends(model_cache)]


def _target(value: str) -> float | None:
    if value.strip().lower() == "mean":
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # 'nan', 'inf' and '1e999' parse as floats but are no target
        reason = [{"field": "target", "reason": "not a finite number"}]
        raise BadRequest("target must be 'mean' or a finite number", errors=reason)
    return number


def _balance_read(report: BalanceReport) -> BalanceRead:
    return BalanceRead(
        metric=report.metric,
        tolerance=report.tolerance,
        target=report.target,
        max_deviation_pct=report.max_deviation_pct,
        cv=report.cv,
        gini=report.gini,
        out_of_balance=len(report.out_of_balance),
        territories=report.territories,
    )


def _checked(model: AlignmentModel, metric: str) -> None:
    try:
        check_metric(model, metric)
    except UnknownMetric as exc:
        raise BadRequest(
            str(exc), errors=[{"field": "metric", "reason": "unknown metric"}], metrics=exc.known
        ) from None


def _reads(rows: list[TerritoryMetrics], report: BalanceReport | None) -> list[TerritoryMetricsRead]:
    by_id = {t["territory_id"]: t for t in report.territories} if report else {}
    out = []
    for r in rows:
        b = by_id.get(r.territory_id)
        out.append(
            TerritoryMetricsRead(
                **territory_read(r),
                deviation_pct=b["deviation_pct"] if b else None,
                within_tolerance=b["within_tolerance"] if b else None,
            )
        )
    return out


async def _model(request: Request, cache: ModelCache, tenant: str, alignment_id: str) -> AlignmentModel:
    async with request.app.state.runtime.sessions() as session:
        return await cache.model(session, tenant, alignment_id)


@router.get("/alignments", response_model=list[AlignmentRead], summary="Alignments metrics-service knows")
async def list_alignments(request: Request, tenant: TenantId, state: str | None = None) -> list[AlignmentRead]:
    async with request.app.state.runtime.sessions() as session:
        rows = await repository.alignments(session, tenant, state)
    return [
        AlignmentRead(
            alignment_id=a.alignment_id,
            name=a.name,
            state=a.state,
            layer_id=a.layer_id,
            sales_force=a.sales_force,
            version=a.version,
            revision=a.revision,
        )
        for a in rows
    ]


@router.get(
    "/alignments/{alignment_id}/metrics",
    response_model=AlignmentMetricsRead,
    summary="Metrics of every territory (all levels) of an alignment, active or draft",
)
async def alignment_metrics(
    request: Request,
    alignment_id: str,
    tenant: TenantId,
    cache: Cache,
    metric: Annotated[str | None, Query(description="Add balance against the target for this metric")] = None,
    tolerance: Tolerance = 0.05,
    target: Target = "mean",
    level: Level = None,
) -> AlignmentMetricsRead:
    async with request.app.state.runtime.sessions() as session:
        row = await cache.alignment(session, tenant, alignment_id)
        model = await cache.model(session, tenant, alignment_id)
    rows = model.territory_metrics()
    report = None
    if metric is not None:
        _checked(model, metric)
        report = balance_report(level_rows(rows, level), metric, tolerance, _target(target))
    white = model.white_space()
    return AlignmentMetricsRead(
        alignment_id=row.alignment_id,
        name=row.name,
        state=row.state,
        layer_id=row.layer_id,
        sales_force=row.sales_force,
        revision=model.revision,
        metrics=list(model.layer.metrics),
        totals=totals_of(model),
        white_space={
            "unit_count": int(len(white)),
            "values": dict(zip(model.layer.metrics, model.white_space_values().tolist(), strict=True)),
        },
        balance=_balance_read(report) if report else None,
        territories=_reads(rows, report),
    )


@router.get(
    "/alignments/{alignment_id}/balance",
    response_model=list[BalanceRead],
    summary="Balance of each metric: deviation per territory, max deviation, CV and Gini",
)
async def alignment_balance(
    request: Request,
    alignment_id: str,
    tenant: TenantId,
    cache: Cache,
    metric: Annotated[list[str] | None, Query(description="Repeat for several; every metric when omitted")] = None,
    tolerance: Tolerance = 0.05,
    target: Target = "mean",
    level: Level = None,
) -> list[BalanceRead]:
    model = await _model(request, cache, tenant, alignment_id)
    names = metric or list(model.layer.metrics)
    for m in names:
        _checked(model, m)
    rows = level_rows(model.territory_metrics(), level)
    return [_balance_read(balance_report(rows, m, tolerance, _target(target))) for m in names]


@router.get(
    "/alignments/{alignment_id}/market-gap",
    summary="Under-served and over-served territories (load per rep against the band) and white space",
)
async def alignment_market_gap(
    request: Request,
    alignment_id: str,
    tenant: TenantId,
    cache: Cache,
    metric: Annotated[
        str | None, Query(description="workload_hours when accounts are known, else potential or account_potential")
    ] = None,
    tolerance: Tolerance = 0.10,
) -> dict[str, Any]:
    model = await _model(request, cache, tenant, alignment_id)
    if metric is None:
        metric = next(
            (m for m in ("workload_hours", "account_potential", "potential") if m in model.layer.column),
            model.layer.metrics[0] if model.layer.metrics else "unit_count",
        )
    _checked(model, metric)
    return {"alignment_id": alignment_id, **market_gap(model, model.territory_metrics(), metric, tolerance)}


@router.get("/compare", summary="Two alignments side by side: per-territory and total deltas, and disruption")
async def compare_alignments(
    request: Request,
    tenant: TenantId,
    cache: Cache,
    a: Annotated[str, Query(description="The baseline alignment (e.g. the active one)")],
    b: Annotated[str, Query(description="The alignment compared with it (e.g. a draft)")],
) -> dict[str, Any]:
    model_a = (await _model(request, cache, tenant, a)).copy()
    model_b = (await _model(request, cache, tenant, b)).copy()
    return {"a": a, "b": b, **compare(model_a, model_b)}


@router.post(
    "/alignments/{alignment_id}/what-if",
    response_model=WhatIfRead,
    summary="The metrics if these units moved (nothing is stored): call it before and after a move on the map",
)
async def post_what_if(request: Request, alignment_id: str, body: WhatIf, tenant: TenantId, cache: Cache) -> WhatIfRead:
    started = time.perf_counter()
    base = await _model(request, cache, tenant, alignment_id)
    if body.metric is not None:
        _checked(base, body.metric)
    try:
        result = what_if(
            base,
            [(m.unit_ids, m.territory_id) for m in body.moves],
            body.metric,
            body.tolerance,
            body.target,
            body.all_territories,
        )
    except UnknownTerritory as exc:
        raise NotFound(str(exc), field="moves.territory_id") from None
    except ParentTerritory as exc:
        raise InvalidInput(str(exc), field="moves.territory_id", territory_id=exc.territory_id) from None
    except UnknownUnits as exc:
        raise NotFound(str(exc), field="moves.unit_ids", unit_ids=exc.unit_ids[:100]) from None
    return WhatIfRead(
        alignment_id=alignment_id,
        revision=base.revision,
        touched=result.touched,
        before=_reads(result.before, result.balance_before),
        after=_reads(result.after, result.balance_after),
        balance_before=_balance_read(result.balance_before) if result.balance_before else None,
        balance_after=_balance_read(result.balance_after) if result.balance_after else None,
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


def _snapshot_point(s: SnapshotRecord, metric: str | None, tolerance: float, territories: bool) -> SnapshotPoint:
    report = None
    if metric is not None:
        leaves = [t for t in s.territories if t["leaf"]]
        values = [t["values"].get(metric, t.get(metric, 0.0)) or 0.0 for t in leaves]
        b = balance(values, tolerance) if leaves else None
        if b is not None:
            report = BalanceRead(
                metric=metric,
                tolerance=tolerance,
                target=b.target,
                max_deviation_pct=b.max_deviation_pct,
                cv=b.cv,
                gini=b.gini,
                out_of_balance=int((~b.within).sum()),
                territories=[
                    {"territory_id": t["territory_id"], "code": t["code"], "value": v, "deviation_pct": float(d)}
                    for t, v, d in zip(leaves, values, b.deviations_pct, strict=True)
                ],
            )
    return SnapshotPoint(
        snapshot_id=s.id,
        alignment_id=s.alignment_id,
        reason=s.reason,
        taken_at=s.taken_at.isoformat(),
        totals=s.totals,
        balance=report,
        territories=s.territories if territories else None,
    )


@router.get("/alignments/{alignment_id}/trend", response_model=TrendRead, summary="Snapshots of an alignment over time")
async def alignment_trend(
    request: Request,
    alignment_id: str,
    tenant: TenantId,
    metric: str | None = None,
    tolerance: Tolerance = 0.05,
    territories: bool = False,
) -> TrendRead:
    async with request.app.state.runtime.sessions() as session:
        if await repository.alignment(session, tenant, alignment_id) is None:
            raise NotFound(f"Alignment {alignment_id} is not known to metrics-service (yet).")
        rows = await repository.snapshots(session, tenant, alignment_id=alignment_id)
        points = [_snapshot_point(s, metric, tolerance, territories) for s in rows]
    return TrendRead(metric=metric, points=points)


@router.get(
    "/trend",
    response_model=TrendRead,
    summary="Snapshots of a sales force's active alignments over time (publishes, days)",
)
async def sales_force_trend(
    request: Request,
    tenant: TenantId,
    sales_force: str,
    metric: str | None = None,
    tolerance: Tolerance = 0.05,
) -> TrendRead:
    async with request.app.state.runtime.sessions() as session:
        rows = await repository.snapshots(session, tenant, sales_force=sales_force)
        points = [_snapshot_point(s, metric, tolerance, False) for s in rows]
    return TrendRead(metric=metric, points=points)
