"""Scheduled (effective-dated) publishing of drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from territory_shared.api.tenancy import TenantId

from geo_service.api.deps import ExpectedVersion, Uow
from geo_service.domain.schedule import PublishSchedule
from geo_service.use_cases.schedules import cancel_schedule, get_schedule, list_schedules, schedule_publish

router = APIRouter(tags=["scheduled publishing"])


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"effective_at": "2027-01-04T08:00:00", "time_zone": "America/Chicago"}]},
    )

    effective_at: datetime = Field(
        description="Wall-clock time in time_zone (no offset); a time with an offset is taken as that instant"
    )
    time_zone: Annotated[str, Field(min_length=1, max_length=64, examples=["America/Chicago"])] = Field(
        description="IANA time zone name"
    )


class ScheduleRead(BaseModel):
    id: str
    alignment_id: str
    sales_force: str
    effective_at: datetime = Field(description="UTC")
    local_time: str = Field(description="effective_at as wall-clock time in time_zone")
    time_zone: str
    state: Literal["scheduled", "done", "cancelled", "failed"]
    created_by: str
    created_at: datetime
    done_at: datetime | None
    done_by: str | None = Field(description="Who cancelled it, or who it was failed for")
    outcome: str | None = Field(description="published, or why it was cancelled or failed")


def _read(s: PublishSchedule) -> ScheduleRead:
    return ScheduleRead(
        id=s.id,
        alignment_id=s.alignment_id,
        sales_force=s.sales_force,
        effective_at=s.effective_at,
        local_time=s.local_time,
        time_zone=s.time_zone,
        state=s.state,
        created_by=s.created_by,
        created_at=s.created_at,
        done_at=s.done_at,
        done_by=s.done_by,
        outcome=s.outcome,
    )


@router.post(
    "/v1/alignments/{alignment_id}/schedule",
    status_code=status.HTTP_201_CREATED,
    response_model=ScheduleRead,
    summary="Publish this draft at a given time (wall-clock time in an IANA time zone)",
    description="Refused: a time not in the future or an unknown time zone (422); an alignment that is not a draft, "
    "not approved when its sales force has an approval policy, or already scheduled (409). Publishing the draft "
    "by hand cancels its schedule.",
)
async def create(
    alignment_id: str,
    body: ScheduleCreate,
    tenant: TenantId,
    uow: Uow,
    version: ExpectedVersion,
    request: Request,
    response: Response,
) -> ScheduleRead:
    schedule = await schedule_publish(
        uow, tenant, alignment_id, effective_at=body.effective_at, time_zone=body.time_zone, expected_version=version
    )
    response.headers["Location"] = str(request.url_for("get_schedule", schedule_id=schedule.id))
    return _read(schedule)


@router.get("/v1/schedules", response_model=list[ScheduleRead], summary="Scheduled publishes, soonest first")
async def list_(
    tenant: TenantId,
    uow: Uow,
    sales_force: str | None = None,
    state: Literal["scheduled", "done", "cancelled", "failed"] | None = None,
) -> list[ScheduleRead]:
    return [_read(s) for s in await list_schedules(uow, tenant, sales_force, state)]


@router.get("/v1/schedules/{schedule_id}", response_model=ScheduleRead, name="get_schedule")
async def get(schedule_id: str, tenant: TenantId, uow: Uow) -> ScheduleRead:
    return _read(await get_schedule(uow, tenant, schedule_id))


@router.post(
    "/v1/schedules/{schedule_id}/cancel",
    response_model=ScheduleRead,
    summary="Cancel a scheduled publish (409 once it is done, failed or cancelled)",
)
async def cancel(schedule_id: str, tenant: TenantId, uow: Uow) -> ScheduleRead:
    return _read(await cancel_schedule(uow, tenant, schedule_id))
