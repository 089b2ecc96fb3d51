"""``GET /v1/jobs/{id}``: a long job's status, progress and outcome, the same in every service;
``POST /v1/jobs/{id}/cancel`` asks it to stop.

The service puts its ``JobRunner`` on ``app.state.jobs`` at start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from territory_shared.api.problems import Conflict, NotFound
from territory_shared.api.tenancy import TenantId

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


class JobRead(BaseModel):
    id: str
    kind: str
    status: str
    stage: str
    percent: float
    message: str | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


@router.get(
    "/{job_id}", name="get_job", response_model=JobRead, summary="A job's status, progress (stage, percent) and outcome"
)
async def get_job(job_id: str, tenant: TenantId, request: Request) -> JobRead:
    job = await request.app.state.jobs.get(tenant, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} does not exist.")
    return JobRead(**{k: v for k, v in job.items() if k != "tenant_id"})


@router.post(
    "/{job_id}/cancel",
    name="cancel_job",
    response_model=JobRead,
    status_code=202,
    summary="Ask a queued or running job to stop (it ends 'cancelled'; work that cannot stop finishes as usual)",
)
async def cancel_job(job_id: str, tenant: TenantId, request: Request) -> JobRead:
    job = await request.app.state.jobs.cancel(tenant, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} does not exist.")
    if job["status"] not in ("cancelling", "cancelled"):
        raise Conflict(f"Job {job_id} has already ended ({job['status']}).", job_status=job["status"])
    return JobRead(**{k: v for k, v in job.items() if k != "tenant_id"})
