from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from territory_shared.api.tenancy import TenantId

from metrics_service.projections.territories import territory_count

router = APIRouter(prefix="/v1", tags=["territories"])


class TerritoryCount(BaseModel):
    tenant_id: str
    territories: int


@router.get("/territory-count", response_model=TerritoryCount, summary="How many territories the tenant has")
async def get_territory_count(request: Request, tenant: TenantId) -> TerritoryCount:
    async with request.app.state.runtime.sessions() as session:
        return TerritoryCount(tenant_id=tenant, territories=await territory_count(session, tenant))
