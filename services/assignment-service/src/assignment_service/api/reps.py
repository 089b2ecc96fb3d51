from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from territory_shared.api.etags import etag_of
from territory_shared.api.limits import MAX_OFFSET
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import RepScope, TenantId

from assignment_service.api.deps import Geo, Uow
from assignment_service.db.records import RepRecord
from assignment_service.use_cases.reps import RepInput, add_roster_entry, delete_rep, end_roster_entry, upsert_rep

router = APIRouter(tags=["reps and rosters"])


class RepUpsert(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Ana Ruiz", "home_lat": 35.78, "home_lon": -78.64, "capacity_hours": 1600}]
        },
    )

    name: str | None = Field(default=None, max_length=200)
    home_lat: float | None = Field(default=None, ge=-90, le=90)
    home_lon: float | None = Field(default=None, ge=-180, le=180)
    capacity_hours: float | None = Field(default=None, ge=0, allow_inf_nan=False, description="Hours per year")
    role: str | None = Field(default=None, max_length=50, examples=["field", "overlay", "manager"])
    active: bool = True


class RepRead(BaseModel):
    id: str
    external_id: str
    name: str | None
    home_lat: float | None
    home_lon: float | None
    capacity_hours: float | None
    role: str | None
    active: bool
    deleted: bool
    version: int


class RosterEntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sales_force: str = Field(min_length=1, max_length=100)
    territory_code: str = Field(min_length=1, max_length=64)
    rep_external_id: str = Field(min_length=1, max_length=100)
    role: Literal["primary", "secondary"] = "primary"
    effective_from: date | None = Field(default=None, description="Today when omitted")
    effective_to: date | None = Field(default=None, description="Exclusive; open-ended when omitted")


class RosterEntryRead(BaseModel):
    id: str
    sales_force: str
    territory_code: str
    rep_id: str
    rep_external_id: str
    role: str
    effective_from: date
    effective_to: date | None
    ended_at: datetime | None
    created_by: str | None = Field(description="Who added the entry")
    ended_by: str | None = Field(description="Who ended it")


def _rep(r: RepRecord, response: Response | None = None) -> RepRead:
    if response is not None:
        response.headers["ETag"] = etag_of(r.version)
    return RepRead(
        id=r.id,
        external_id=r.external_id,
        name=r.name,
        home_lat=r.home_lat,
        home_lon=r.home_lon,
        capacity_hours=r.capacity_hours,
        role=r.role,
        active=r.active,
        deleted=r.deleted_at is not None,
        version=r.version,
    )


@router.put("/v1/reps/{external_id}", response_model=RepRead, summary="Create or replace a rep by external id")
async def put_rep(external_id: str, body: RepUpsert, tenant: TenantId, uow: Uow, response: Response) -> RepRead:
    rep, created = await upsert_rep(uow, tenant, external_id, RepInput(**body.model_dump()))
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _rep(rep, response)


@router.get("/v1/reps", response_model=list[RepRead])
async def list_reps(
    tenant: TenantId,
    uow: Uow,
    own: RepScope,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[RepRead]:
    async with uow:
        return [_rep(r) for r in await uow.reps.list(tenant, limit, offset, external_id=own)]


@router.get("/v1/reps/{external_id}", response_model=RepRead)
async def get_rep(external_id: str, tenant: TenantId, uow: Uow, own: RepScope, response: Response) -> RepRead:
    async with uow:
        rep = await uow.reps.get(tenant, external_id)
    if rep is None or own not in (None, external_id):  # a rep sees only their own record
        raise NotFound(f"Rep {external_id} does not exist.")
    return _rep(rep, response)


@router.delete("/v1/reps/{external_id}", status_code=204, summary="Delete a rep (kept, flagged; history stays)")
async def remove_rep(external_id: str, tenant: TenantId, uow: Uow) -> Response:
    await delete_rep(uow, tenant, external_id)
    return Response(status_code=204)


def _entry(row: object, rep_external_id: str) -> RosterEntryRead:
    return RosterEntryRead(
        **{k: getattr(row, k) for k in RosterEntryRead.model_fields if k != "rep_external_id"},
        rep_external_id=rep_external_id,
    )


@router.post("/v1/roster-entries", response_model=RosterEntryRead, status_code=201, summary="A rep takes a territory")
async def create_entry(body: RosterEntryCreate, tenant: TenantId, uow: Uow, geo: Geo) -> RosterEntryRead:
    entry = await add_roster_entry(uow, geo, tenant, **body.model_dump())
    return _entry(entry, body.rep_external_id)


@router.get("/v1/roster-entries", response_model=list[RosterEntryRead], summary="Who holds which territory, when")
async def list_entries(
    tenant: TenantId,
    uow: Uow,
    sales_force: str | None = None,
    territory_code: str | None = None,
    rep_external_id: str | None = None,
) -> list[RosterEntryRead]:
    async with uow:
        rep_id = None
        if rep_external_id:
            rep = await uow.reps.get(tenant, rep_external_id)
            if rep is None:
                return []
            rep_id = rep.id
        rows = await uow.reps.entries(tenant, sales_force, territory_code, rep_id)
    return [_entry(r, r.rep_external_id) for r in rows]


@router.post("/v1/roster-entries/{entry_id}/end", response_model=RosterEntryRead, summary="End an entry (kept)")
async def end_entry(entry_id: str, tenant: TenantId, uow: Uow, on: date | None = None) -> RosterEntryRead:
    entry = await end_roster_entry(uow, tenant, entry_id, on)
    async with uow:
        rep = await uow.reps.get_by_id(tenant, entry.rep_id)
    return _entry(entry, rep.external_id if rep else "")
