"""Quota plans per sales force and period, and the quotas they give per territory and per rep (docs/quotas.md)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from territory_shared.api.etags import etag_of, parse_if_match
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import TenantId

from metrics_service.db import quotas as db
from metrics_service.db.records import QuotaPlanRecord, QuotaSegmentRecord
from metrics_service.db.unit_of_work import UnitOfWork
from metrics_service.domain.quotas import RepQuota, TerritoryQuota
from metrics_service.use_cases.models import ModelCache
from metrics_service.use_cases.quotas import PlanInput, QuotaSheet, quota_sheet, set_plan

router = APIRouter(prefix="/v1/sales-forces/{sales_force}/quota-plans", tags=["quotas"])

Period = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["2027", "FY27-H1"]),
]
AlignmentParam = Annotated[
    str | None,
    Query(description="The alignment in effect from today (a draft: what publishing it would give); default: as is"),
]


def model_cache(request: Request) -> ModelCache:
    models: ModelCache = request.app.state.models
    return models


Cache = Annotated[ModelCache, Depends(model_cache)]


Code = Annotated[str, Field(min_length=1, max_length=64)]
Amount = Annotated[float, Field(allow_inf_nan=False)]


class QuotaPlanWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "goal": 12_000_000,
                    "starts_on": "2027-01-01",
                    "ends_on": "2027-12-31",
                    "method": "blend",
                    "potential_weight": 0.5,
                    "adjustments": {"T01": 50_000, "T02": -50_000},
                }
            ]
        },
    )

    goal: float = Field(gt=0, allow_inf_nan=False, description="The amount the leaf territories' quotas add up to")
    starts_on: date
    ends_on: date = Field(description="Inclusive")
    method: Literal["potential", "revenue", "blend"] = Field(
        description="Split the goal by the accounts' potential, their revenue, or a blend of both"
    )
    potential_weight: float | None = Field(
        default=None, ge=0, le=1, allow_inf_nan=False, description="For a blend: the weight w of potential (0 to 1)"
    )
    adjustments: dict[Code, Amount] = Field(
        default_factory=dict,
        max_length=10_000,
        description="Leaf territory code -> amount added to its quota; they must sum to 0",
    )


class SegmentRead(BaseModel):
    alignment_id: str
    starts_on: date
    ends_on: date | None = Field(description="Inclusive; null while the alignment is in effect (to the period's end)")
    days: int


class QuotaPlanRead(BaseModel):
    sales_force: str
    period: str
    goal: float
    starts_on: date
    ends_on: date
    method: str
    potential_weight: float = Field(description="1 for potential, 0 for revenue")
    adjustments: dict[str, float]
    alignment_id: str | None = Field(description="The alignment whose leaf territories the adjustments name")
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by: str = Field(description="Who set the plan last (a token's subject, api-key:<name>)")
    segments: list[SegmentRead] = Field(description="The alignments in effect during the period, and when")


class TerritoryQuotaRead(BaseModel):
    territory_code: str
    name: str
    parent_code: str | None
    is_leaf: bool
    in_alignment: bool = Field(description="False: a territory of an earlier segment only, for its part of the period")
    potential: float | None = Field(description="Account potential it holds in this alignment")
    revenue: float | None = Field(description="Account revenue it holds in this alignment")
    share: float | None = Field(description="Its share of the weighted measure")
    base_quota: float = Field(description="goal x share")
    adjustment: float
    allocation: float = Field(description="base_quota + adjustment: this alignment's quota for the whole period")
    quota: float = Field(description="The period's quota: each segment's allocation weighted by its days")
    attainment: float | None = Field(description="revenue / quota")
    primary_rep_id: str | None


class RepQuotaRead(BaseModel):
    rep_id: str
    rep_external_id: str | None
    name: str | None = Field(description="The rep's name as assignment-service last told it (null: none given)")
    territory_codes: list[str] = Field(description="Leaf territories held as primary rep in this alignment")
    allocation: float
    quota: float
    revenue: float
    attainment: float | None


class QuotaSegmentRead(SegmentRead):
    state: Literal["closed", "open", "preview"]


class QuotaSheetRead(BaseModel):
    sales_force: str
    period: str
    alignment_id: str
    alignment_state: str
    goal: float
    method: str
    potential_weight: float
    starts_on: date
    ends_on: date
    territories: list[TerritoryQuotaRead]
    reps: list[RepQuotaRead]
    unassigned_quota: float = Field(description="The part of the goal in leaf territories with no primary rep")
    unapplied_adjustments: dict[str, float] = Field(
        description="The plan's adjustments this alignment cannot take (one names no leaf territory of it)"
    )
    segments: list[QuotaSegmentRead]


class QuotaChange(BaseModel):
    before: float
    after: float
    change: float


class TerritoryQuotaChange(QuotaChange):
    territory_code: str
    name: str


class RepQuotaChange(QuotaChange):
    rep_id: str
    rep_external_id: str | None
    name: str | None


class QuotaCompareRead(BaseModel):
    sales_force: str
    period: str
    before_alignment_id: str | None
    after_alignment_id: str
    territories: list[TerritoryQuotaChange]
    reps: list[RepQuotaChange]


def _days(s: QuotaSegmentRecord, plan: QuotaPlanRecord) -> int:
    return ((s.ends_on or plan.ends_on) - s.starts_on).days + 1


def _plan_read(row: QuotaPlanRecord, segments: list[QuotaSegmentRecord]) -> QuotaPlanRead:
    return QuotaPlanRead(
        sales_force=row.sales_force,
        period=row.period,
        goal=row.goal,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        method=row.method,
        potential_weight=row.potential_weight,
        adjustments=row.adjustments,
        alignment_id=row.alignment_id,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        segments=[
            SegmentRead(alignment_id=s.alignment_id, starts_on=s.starts_on, ends_on=s.ends_on, days=_days(s, row))
            for s in segments
        ],
    )


def _territory_read(t: TerritoryQuota) -> TerritoryQuotaRead:
    return TerritoryQuotaRead(
        territory_code=t.code,
        name=t.name,
        parent_code=t.parent_code,
        is_leaf=t.is_leaf,
        in_alignment=t.in_alignment,
        potential=t.potential,
        revenue=t.revenue,
        share=t.share,
        base_quota=t.base_quota,
        adjustment=t.adjustment,
        allocation=t.allocation,
        quota=t.quota,
        attainment=t.attainment,
        primary_rep_id=t.primary_rep_id,
    )


def _rep_read(r: RepQuota, names: dict[str, str | None]) -> RepQuotaRead:
    return RepQuotaRead(
        rep_id=r.rep_id,
        rep_external_id=r.external_id,
        name=names.get(r.rep_id),
        territory_codes=r.territory_codes,
        allocation=r.allocation,
        quota=r.quota,
        revenue=r.revenue,
        attainment=r.attainment,
    )


def _sheet_read(sheet: QuotaSheet) -> QuotaSheetRead:
    plan = sheet.plan
    return QuotaSheetRead(
        sales_force=plan.sales_force,
        period=plan.period,
        alignment_id=sheet.alignment.alignment_id,
        alignment_state=sheet.alignment.state,
        goal=plan.goal,
        method=plan.method,
        potential_weight=plan.potential_weight,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        territories=[_territory_read(t) for t in sheet.quotas.territories],
        reps=[_rep_read(r, sheet.rep_names) for r in sheet.quotas.reps],
        unassigned_quota=sheet.quotas.unassigned,
        unapplied_adjustments=sheet.quotas.unapplied,
        segments=[
            QuotaSegmentRead(
                alignment_id=s.alignment_id,
                starts_on=s.starts_on,
                ends_on=s.ends_on,
                days=s.days,
                state=s.state,
            )
            for s in sheet.segments
        ],
    )


@router.put(
    "/{period}",
    response_model=QuotaPlanRead,
    summary="Set a period's quota plan: the goal, how it is split, manual adjustments (summing to 0)",
    responses={201: {"description": "Created"}, 412: {"description": "If-Match names another version"}},
)
async def put_plan(
    request: Request,
    response: Response,
    sales_force: str,
    period: Period,
    body: QuotaPlanWrite,
    tenant: TenantId,
    cache: Cache,
    if_match: Annotated[str | None, Header()] = None,
    alignment_id: Annotated[
        str | None, Query(description="The alignment whose leaf territories the adjustments name; default: active")
    ] = None,
) -> QuotaPlanRead:
    runtime = request.app.state.runtime
    given = PlanInput(
        body.goal, body.starts_on, body.ends_on, body.method, body.potential_weight, dict(body.adjustments)
    )
    row, created, segments = await set_plan(
        UnitOfWork(runtime.sessions, runtime.outbox_written),
        cache,
        tenant,
        sales_force,
        period,
        given,
        if_match=parse_if_match(if_match),
        alignment_id=alignment_id,
    )
    read = _plan_read(row, segments)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag_of(read.version)
    return read


@router.get("", response_model=list[QuotaPlanRead], summary="The sales force's quota plans, by start")
async def list_plans(request: Request, sales_force: str, tenant: TenantId) -> list[QuotaPlanRead]:
    async with request.app.state.runtime.sessions() as session:
        return [
            _plan_read(p, await db.segments(session, tenant, sales_force, p.period))
            for p in await db.plans(session, tenant, sales_force)
        ]


@router.get("/{period}", response_model=QuotaPlanRead, summary="One quota plan, with who set it and its segments")
async def get_plan(
    request: Request, response: Response, sales_force: str, period: Period, tenant: TenantId
) -> QuotaPlanRead:
    async with request.app.state.runtime.sessions() as session:
        row = await db.plan(session, tenant, sales_force, period)
        if row is None:
            raise NotFound(f"Sales force {sales_force!r} has no quota plan for period {period!r}.")
        read = _plan_read(row, await db.segments(session, tenant, sales_force, period))
    response.headers["ETag"] = etag_of(read.version)
    return read


async def _sheet(
    request: Request, cache: ModelCache, tenant: str, sales_force: str, period: str, alignment_id: str | None
) -> QuotaSheet:
    async with request.app.state.runtime.sessions() as session:
        return await quota_sheet(session, cache, tenant, sales_force, period, alignment_id)


@router.get(
    "/{period}/quotas",
    response_model=QuotaSheetRead,
    summary="Quotas per territory (every level) and per rep, with attainment; a draft's: what publishing it gives",
)
async def get_quotas(
    request: Request,
    sales_force: str,
    period: Period,
    tenant: TenantId,
    cache: Cache,
    alignment_id: AlignmentParam = None,
) -> QuotaSheetRead:
    return _sheet_read(await _sheet(request, cache, tenant, sales_force, period, alignment_id))


def _money(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


def _ratio(v: float | None) -> str:
    return "" if v is None else f"{v:.6f}"


@router.get(
    "/{period}/quotas.csv",
    summary="The quotas as CSV: one row per territory (rows=territories) or per rep (rows=reps)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_quotas_csv(
    request: Request,
    sales_force: str,
    period: Period,
    tenant: TenantId,
    cache: Cache,
    alignment_id: AlignmentParam = None,
    rows: Literal["territories", "reps"] = "territories",
) -> Response:
    sheet = await _sheet(request, cache, tenant, sales_force, period, alignment_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if rows == "territories":
        writer.writerow(
            ["territory_code", "name", "parent_code", "is_leaf", "potential", "revenue", "share", "base_quota",
             "adjustment", "allocation", "quota", "attainment", "primary_rep_id"]
        )  # fmt: skip
        for t in sheet.quotas.territories:
            writer.writerow(
                [t.code, t.name, t.parent_code or "", str(t.is_leaf).lower(), _money(t.potential), _money(t.revenue),
                 _ratio(t.share), _money(t.base_quota), _money(t.adjustment), _money(t.allocation), _money(t.quota),
                 _ratio(t.attainment), t.primary_rep_id or ""]
            )  # fmt: skip
    else:
        writer.writerow(
            ["rep_id", "rep_external_id", "rep_name", "territory_codes", "allocation", "quota", "revenue",
             "attainment"]
        )  # fmt: skip
        for r in sheet.quotas.reps:
            writer.writerow(
                [r.rep_id, r.external_id or "", sheet.rep_names.get(r.rep_id) or "", " ".join(r.territory_codes),
                 _money(r.allocation), _money(r.quota), _money(r.revenue), _ratio(r.attainment)]
            )  # fmt: skip
    name = f"quotas-{sales_force}-{period}-{sheet.alignment.alignment_id}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/{period}/quotas/compare",
    response_model=QuotaCompareRead,
    summary="A draft's quotas against the quotas as they stand: per territory and per rep, before, after, change",
)
async def compare_quotas(
    request: Request,
    sales_force: str,
    period: Period,
    tenant: TenantId,
    cache: Cache,
    alignment_id: Annotated[str, Query(description="The alignment to compare (a draft), as if published today")],
) -> QuotaCompareRead:
    after = await _sheet(request, cache, tenant, sales_force, period, alignment_id)
    async with request.app.state.runtime.sessions() as session:
        stands = bool(await db.segments(session, tenant, sales_force, period)) or (
            await db.active_alignment(session, tenant, sales_force) is not None
        )
    before = await _sheet(request, cache, tenant, sales_force, period, None) if stands else None
    old_t = {t.code: t for t in before.quotas.territories} if before else {}
    new_t = {t.code: t for t in after.quotas.territories}
    territories = []
    for code in [*new_t, *(c for c in old_t if c not in new_t)]:
        was, now = old_t.get(code), new_t.get(code)
        b, a = (was.quota if was else 0.0), (now.quota if now else 0.0)
        name = (now or was).name  # type: ignore[union-attr]
        territories.append(TerritoryQuotaChange(territory_code=code, name=name, before=b, after=a, change=a - b))
    old_r = {r.rep_id: r for r in before.quotas.reps} if before else {}
    new_r = {r.rep_id: r for r in after.quotas.reps}
    reps = []
    for rep_id in [*new_r, *(r for r in old_r if r not in new_r)]:
        was_r, now_r = old_r.get(rep_id), new_r.get(rep_id)
        b, a = (was_r.quota if was_r else 0.0), (now_r.quota if now_r else 0.0)
        external = (now_r or was_r).external_id  # type: ignore[union-attr]
        name = after.rep_names.get(rep_id) or (before.rep_names.get(rep_id) if before else None)
        reps.append(RepQuotaChange(rep_id=rep_id, rep_external_id=external, name=name, before=b, after=a, change=a - b))
    return QuotaCompareRead(
        sales_force=sales_force,
        period=period,
        before_alignment_id=before.alignment.alignment_id if before else None,
        after_alignment_id=alignment_id,
        territories=territories,
        reps=reps,
    )
