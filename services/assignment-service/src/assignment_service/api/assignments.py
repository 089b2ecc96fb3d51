from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from territory_shared.api.limits import MAX_OFFSET
from territory_shared.api.problems import BadRequest, NotFound
from territory_shared.api.tenancy import TenantId
from territory_shared.jobs import Progress

from assignment_service.api.deps import Geo, Jobs, Uow, Zips, job_location
from assignment_service.api.rep_scope import OwnRep
from assignment_service.use_cases.realign import recompute_sales_force

router = APIRouter(tags=["assignments"])


class AssignmentRow(BaseModel):
    account_id: str
    external_id: str
    territory_code: str | None
    rep_id: str | None
    cause: str
    rule: str | None
    reason: str | None
    unit_id: str | None


class AssignmentPage(BaseModel):
    items: list[AssignmentRow]
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page")


class OwnerRead(BaseModel):
    sales_force: str
    territory_code: str | None
    rep_id: str | None
    rep_external_id: str | None
    cause: str
    reason: str | None
    unit_id: str | None
    location_precision: str | None
    account_external_id: str | None = None


@router.get(
    "/v1/sales-forces/{sales_force}/assignments",
    response_model=AssignmentPage,
    summary="Accounts and their owner; unassigned=true lists the accounts that match nothing, with the reason",
)
async def list_assignments(
    sales_force: str,
    request: Request,
    tenant: TenantId,
    uow: Uow,
    rep: OwnRep,
    unassigned: bool | None = None,
    territory_code: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AssignmentPage:
    async with uow:
        rows = await uow.assignments.page(
            tenant,
            sales_force,
            unassigned=unassigned,
            territory_code=territory_code,
            limit=limit + 1,
            offset=offset,
            rep_id=rep,
        )
    items = [
        AssignmentRow(
            account_id=r.account_id,
            external_id=r.external_id,
            territory_code=r.territory_code,
            rep_id=r.rep_id,
            cause=r.cause,
            rule=r.rule,
            reason=r.reason,
            unit_id=r.geo_unit_id,
        )
        for r in rows[:limit]
    ]
    next_url = str(request.url.include_query_params(offset=offset + limit)) if len(rows) > limit else None
    return AssignmentPage(items=items, limit=limit, offset=offset, next=next_url)


@router.get(
    "/v1/sales-forces/{sales_force}/owner",
    response_model=OwnerRead,
    summary="Who owns an account (account=), a location (lat=, lon=) or a ZIP code (zip=)",
    description="A location or ZIP is owned by geography: its territory in the active alignment and that "
    "territory's primary rep. An account's owner also reflects rules and overrides.",
)
async def owner(
    sales_force: str,
    tenant: TenantId,
    uow: Uow,
    geo: Geo,
    zips: Zips,
    account: str | None = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    zip: str | None = None,
) -> OwnerRead:
    async with uow:
        rep_ext = await uow.reps.external_ids(tenant)
        if account is not None:
            row = await uow.accounts.get(tenant, account)
            found = (await uow.assignments.current(tenant, sales_force, [row.id])).get(row.id) if row else None
            if found is None:
                raise NotFound(f"Account {account} has no assignment in sales force {sales_force!r}.")
            return OwnerRead(
                sales_force=sales_force,
                territory_code=found.territory_code,
                rep_id=found.rep_id,
                rep_external_id=rep_ext.get(found.rep_id) if found.rep_id else None,
                cause=found.cause,
                reason=found.reason,
                unit_id=found.geo_unit_id,
                location_precision=row.location_precision,  # type: ignore[union-attr]
                account_external_id=account,
            )
        precision = "exact"
        if zip is not None:
            point = zips(zip)
            if point is None:
                raise NotFound(f"Unknown ZIP code {zip!r}.", field="zip")
            lat, lon, precision = point.lat, point.lon, "zip-centroid"
        if lat is None or lon is None:
            raise BadRequest("give account, lat and lon, or zip", field="account")
        primary = await uow.reps.primary_reps(tenant, sales_force, datetime.now(UTC).date())
    located = await geo.locate(tenant, [("p", lon, lat)], sales_force=sales_force)
    if located is None:
        raise NotFound(f"Sales force {sales_force!r} has no active alignment.", field="sales_force")
    answer = located.answers.get("p")
    code = answer.territory_code if answer else None
    rep = primary.get(code) if code else None
    return OwnerRead(
        sales_force=sales_force,
        territory_code=code,
        rep_id=rep,
        rep_external_id=rep_ext.get(rep) if rep else None,
        cause="geography" if code else "unassigned",
        reason=None if code else "the location is in no territory of the active alignment",
        unit_id=answer.unit_id if answer else None,
        location_precision=precision,
    )


@router.post(
    "/v1/sales-forces/{sales_force}/recompute",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Recompute every account of a sales force (a job with progress)",
)
async def recompute(
    sales_force: str, request: Request, tenant: TenantId, uow: Uow, geo: Geo, jobs: Jobs, response: Response
) -> dict[str, Any]:
    async def work(progress: Progress) -> dict[str, Any]:
        return await recompute_sales_force(uow, geo, tenant, sales_force, progress)

    job_id = await jobs.submit(tenant, "recompute", work)
    response.headers["Location"] = job_location(request, job_id)
    return {"job_id": job_id}
