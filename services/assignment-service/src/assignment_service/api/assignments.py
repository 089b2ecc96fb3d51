from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from territory_shared.api.limits import MAX_OFFSET
from territory_shared.api.problems import BadRequest, InvalidInput, NotFound
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
    on: datetime | None = Field(default=None, description="With `on`: the moment asked about (UTC)")
    since: datetime | None = Field(default=None, description="With `on`: when this owner took the account")
    trigger: str | None = Field(default=None, description="With `on`: what made that change (e.g. realignment)")
    changed_by: str | None = Field(default=None, description="With `on`: who made that change")


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
    summary="Who owns an account (account=), a location (lat=, lon=) or a ZIP code (zip=); who owned an account "
    "at a past moment (account= and on=)",
    description="A location or ZIP is owned by geography: its territory in the active alignment and that "
    "territory's primary rep. An account's owner also reflects rules and overrides. With `on`, the account's "
    "owner then, from its history: the territory, rep and cause of the last change made by that moment, when "
    "it was made, by what and by whom.",
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
    on: Annotated[
        str | None,
        Query(
            description="A past moment: a day (its end, UTC) or a date and time (UTC unless an offset is given); "
            "with account= only",
            examples=["2026-05-01", "2026-05-01T09:30:00-05:00"],
        ),
    ] = None,
) -> OwnerRead:
    if on is not None:
        if account is None:
            raise InvalidInput("on= asks who owned an account: give account= with it", field="on")
        return await _owner_on(uow, tenant, sales_force, account, _moment(on, datetime.now(UTC)))
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


def _moment(on: str, now: datetime) -> datetime:
    """``on`` as a UTC moment: a day stands for its end (the owner the day ended with), today's for now."""
    try:
        if len(on) == len("2026-05-01"):
            day = date.fromisoformat(on)
            at = datetime.combine(day + timedelta(days=1), time.min, UTC) - timedelta(microseconds=1)
            if day == now.date():
                at = now
        else:
            at = datetime.fromisoformat(on)
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except ValueError:
        raise InvalidInput(
            f"on must be a date (2026-05-01) or a date and time (2026-05-01T09:30:00Z); got {on!r}", field="on"
        ) from None
    if at > now:
        raise InvalidInput(f"on must not be in the future ({on} is after now, {now.isoformat()})", field="on")
    return at


async def _owner_on(uow: Uow, tenant: str, sales_force: str, account: str, at: datetime) -> OwnerRead:
    async with uow:
        row = await uow.accounts.get(tenant, account)
        if row is None:
            raise NotFound(f"Account {account} does not exist.", field="account")
        change = await uow.assignments.owner_at(tenant, sales_force, row.id, at)
        if change is None:
            raise NotFound(f"Account {account} had no owner in sales force {sales_force!r} at {at.isoformat()}.")
        rep = await uow.reps.get_by_id(tenant, change.to_rep_id) if change.to_rep_id else None
    return OwnerRead(
        sales_force=sales_force,
        territory_code=change.to_territory_code,
        rep_id=change.to_rep_id,
        rep_external_id=rep.external_id if rep else None,
        cause=change.cause,
        reason=change.reason,
        unit_id=None,  # the history keeps owners, not units
        location_precision=None,
        account_external_id=account,
        on=at,
        since=change.changed_at,
        trigger=change.trigger,
        changed_by=change.changed_by,
    )
