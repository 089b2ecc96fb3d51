from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from territory_shared.api.limits import MAX_OFFSET
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import TenantId

from assignment_service.api.deps import Geo, Uow
from assignment_service.use_cases.preview import preview_alignment

router = APIRouter(prefix="/v1/realignments", tags=["realignment"])


class RunRead(BaseModel):
    id: str
    sales_force: str
    alignment_id: str
    alignment_version: int
    previous_alignment_id: str | None
    mode: str
    status: str
    accounts_moved: int
    summary: dict[str, Any] | None
    started_at: datetime
    completed_at: datetime | None
    started_by: str | None = Field(description="Who published the alignment the run applies")


class ChangeRead(BaseModel):
    account_id: str
    external_id: str
    from_territory_code: str | None
    to_territory_code: str | None
    from_rep_id: str | None
    to_rep_id: str | None
    from_rep_external_id: str | None
    to_rep_external_id: str | None
    potential: float | None
    cause: str


class ChangePage(BaseModel):
    items: list[ChangeRead]
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page")


def _run(r: Any) -> RunRead:
    return RunRead(**{k: getattr(r, k) for k in RunRead.model_fields})


@router.post(
    "/preview",
    summary="What publishing a draft alignment would change (per territory, per rep, per account), without publishing",
)
async def preview(
    tenant: TenantId,
    uow: Uow,
    geo: Geo,
    alignment_id: str,
    changes_listed: Annotated[int, Query(ge=0, le=100_000, description="How many moved accounts to list")] = 1000,
) -> dict[str, Any]:
    return await preview_alignment(uow, geo, tenant, alignment_id, changes_listed)


@router.get("", response_model=list[RunRead], summary="Realignment runs, newest first")
async def list_runs(
    tenant: TenantId,
    uow: Uow,
    sales_force: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[RunRead]:
    async with uow:
        return [_run(r) for r in await uow.runs.runs(tenant, sales_force, limit, offset)]


@router.get("/{run_id}", response_model=RunRead)
async def get_run(run_id: str, tenant: TenantId, uow: Uow) -> RunRead:
    async with uow:
        run = await uow.runs.run(tenant, run_id)
    if run is None:
        raise NotFound(f"Realignment run {run_id} does not exist.")
    return _run(run)


async def _changes(uow: Any, tenant: str, run_id: str, limit: int | None, offset: int) -> list[ChangeRead]:
    async with uow:
        if await uow.runs.run(tenant, run_id) is None:
            raise NotFound(f"Realignment run {run_id} does not exist.")
        rows = await uow.assignments.run_changes(tenant, run_id, limit, offset)
        rep_ext = await uow.reps.external_ids(tenant)
    return [
        ChangeRead(
            account_id=r.account_id,
            external_id=r.external_id,
            from_territory_code=r.from_territory_code,
            to_territory_code=r.to_territory_code,
            from_rep_id=r.from_rep_id,
            to_rep_id=r.to_rep_id,
            from_rep_external_id=rep_ext.get(r.from_rep_id) if r.from_rep_id else None,
            to_rep_external_id=rep_ext.get(r.to_rep_id) if r.to_rep_id else None,
            potential=r.potential,
            cause=r.cause,
        )
        for r in rows
    ]


@router.get("/{run_id}/changes", response_model=ChangePage, summary="The accounts a run moved, page by page")
async def changes(
    run_id: str,
    request: Request,
    tenant: TenantId,
    uow: Uow,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ChangePage:
    items = await _changes(uow, tenant, run_id, limit + 1, offset)
    next_url = str(request.url.include_query_params(offset=offset + limit)) if len(items) > limit else None
    return ChangePage(items=items[:limit], limit=limit, offset=offset, next=next_url)


@router.get("/{run_id}/changes.csv", summary="The accounts a run moved, as CSV")
async def changes_csv(run_id: str, tenant: TenantId, uow: Uow) -> Response:
    items = await _changes(uow, tenant, run_id, None, 0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = list(ChangeRead.model_fields)
    writer.writerow(columns)
    writer.writerows([getattr(i, c) for c in columns] for i in items)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="realignment-{run_id}.csv"'},
    )
