"""``GET /v1/alerts``: territories told out of balance, current (still out, on an active alignment) and past."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from territory_shared.api.limits import MAX_OFFSET
from territory_shared.api.tenancy import TenantId

from metrics_service.db import repository

router = APIRouter(prefix="/v1", tags=["alerts"])


class AlertRead(BaseModel):
    id: str = Field(description="The id of the out-of-balance event that told it")
    alignment_id: str
    sales_force: str
    territory_id: str
    territory_code: str
    metric: str
    value: float
    target: float
    deviation_pct: float
    tolerance_pct: float
    detected_at: datetime
    resolved_at: datetime | None = Field(description="When it came back within tolerance; null while it is out")
    current: bool = Field(description="Still out of balance, on the sales force's active alignment")


class AlertPage(BaseModel):
    items: list[AlertRead]
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page")


@router.get("/alerts", response_model=AlertPage, summary="Out-of-balance alerts, newest first: current and past")
async def list_alerts(
    request: Request,
    tenant: TenantId,
    state: Annotated[
        Literal["current", "past", "all"],
        Query(
            description="current: still out on an active alignment; past: resolved or of an alignment no longer active"
        ),
    ] = "current",
    sales_force: str | None = None,
    metric: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AlertPage:
    async with request.app.state.runtime.sessions() as session:
        rows = await repository.alerts(session, tenant, state, sales_force, metric, limit + 1, offset)
    items = [
        AlertRead(
            **{k: getattr(a, k) for k in AlertRead.model_fields if k != "current"},
            current=bool(current),
        )
        for a, current in rows[:limit]
    ]
    next_url = str(request.url.include_query_params(offset=offset + limit)) if len(rows) > limit else None
    return AlertPage(items=items, limit=limit, offset=offset, next=next_url)
