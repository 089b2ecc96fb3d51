"""A sales force's ownership per territory: what metrics-service's consistency check compares its projection with."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from territory_shared.api.tenancy import TenantId
from territory_shared.jobs import Progress

from assignment_service.api.deps import Jobs, Uow, job_location
from assignment_service.db import ownership
from assignment_service.use_cases.announce_ownership import announce_ownership

router = APIRouter(tags=["assignments"])


class TerritoryOwnership(BaseModel):
    territory_code: str | None = Field(description="null: the accounts no territory owns")
    accounts: int
    potential: float
    primary_rep_id: str | None = Field(description="The rep holding the territory as primary on the day asked about")
    primary_rep_external_id: str | None


class OwnershipRead(BaseModel):
    sales_force: str
    alignment_id: str | None = Field(description="The active alignment the sales force's assignments follow")
    on: date
    territories: list[TerritoryOwnership] = Field(
        description="Every territory code that owns accounts or has a primary rep, and the unassigned (null)"
    )


@router.get(
    "/v1/sales-forces/{sales_force}/ownership",
    response_model=OwnershipRead,
    summary="Accounts, potential and primary rep per territory: the truth projections are checked against",
)
async def get_ownership(
    sales_force: str,
    tenant: TenantId,
    uow: Uow,
    on: Annotated[date | None, Query(description="The day whose primary reps count; today by default")] = None,
) -> OwnershipRead:
    day = on or datetime.now(UTC).date()
    async with uow:
        sf = await uow.assignments.sales_force(tenant, sales_force)
        rows = {r.territory_code: r for r in await ownership.per_territory(uow.session, tenant, sales_force)}
        primary = await uow.reps.primary_reps(tenant, sales_force, day)
        external = await uow.reps.external_ids(tenant)
    codes = sorted(set(rows) | set(primary), key=lambda c: (c is None, c or ""))
    return OwnershipRead(
        sales_force=sales_force,
        alignment_id=sf.alignment_id if sf is not None else None,
        on=day,
        territories=[
            TerritoryOwnership(
                territory_code=code,
                accounts=int(rows[code].accounts) if code in rows else 0,
                potential=round(float(rows[code].potential), 6) if code in rows else 0.0,
                primary_rep_id=primary.get(code) if code else None,
                primary_rep_external_id=external.get(primary[code]) if code and code in primary else None,
            )
            for code in codes
        ],
    )


@router.post(
    "/v1/sales-forces/{sales_force}/ownership/announce",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Announce every current owner and roster again (a job): rebuilds a projection exactly",
)
async def announce(
    sales_force: str, request: Request, tenant: TenantId, uow: Uow, jobs: Jobs, response: Response
) -> dict[str, str]:
    async def work(progress: Progress) -> dict[str, Any]:
        return await announce_ownership(uow, tenant, sales_force, progress)

    job_id = await jobs.submit(tenant, "announce", work)
    response.headers["Location"] = job_location(request, job_id)
    return {"job_id": job_id}
