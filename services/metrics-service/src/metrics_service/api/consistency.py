"""``GET /v1/sales-forces/{sf}/consistency``: does what metrics-service shows equal who really owns what?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from territory_shared.api.problems import InvalidInput, ServiceUnavailable
from territory_shared.api.tenancy import TenantId

from metrics_service.domain.sources import AssignmentRefused, AssignmentUnavailable
from metrics_service.use_cases.consistency import check

router = APIRouter(prefix="/v1", tags=["consistency"])


class ConsistencyRead(BaseModel):
    sales_force: str
    alignment_id: str | None = Field(description="The sales force's active alignment as metrics-service knows it")
    checked_at: str
    consistent: bool
    territories_checked: int
    differences: list[dict[str, Any]] = Field(
        description="Each: territory_code (null: the unassigned accounts), field (accounts, potential, "
        "primary_rep_id, alignment_id), the value metrics-service shows and assignment-service's",
        examples=[[{"territory_code": "NE-01", "field": "accounts", "metrics": 5277, "assignment": 5153}]],
    )
    codes_outside_alignment: list[str] = Field(
        description="Codes that own accounts in assignment-service but are no territory of the active alignment (a "
        "draft's, or one a rule names): their accounts count with the unassigned on both sides"
    )


@router.get(
    "/sales-forces/{sales_force}/consistency",
    response_model=ConsistencyRead,
    summary="Compare each territory's accounts, potential and primary rep with assignment-service's records",
)
async def get_consistency(request: Request, sales_force: str, tenant: TenantId) -> ConsistencyRead:
    async with request.app.state.runtime.sessions() as session:
        try:
            result = await check(session, request.app.state.models, request.app.state.assignment, tenant, sales_force)
        except AssignmentUnavailable as exc:
            raise ServiceUnavailable(f"assignment-service did not answer: {exc}") from None
        except AssignmentRefused as exc:
            raise InvalidInput(f"assignment-service refused the sales force: {exc}", field="sales_force") from None
    return ConsistencyRead(
        sales_force=result.sales_force,
        alignment_id=result.alignment_id,
        checked_at=result.checked_at,
        consistent=result.consistent,
        territories_checked=result.territories_checked,
        differences=result.differences,
        codes_outside_alignment=result.codes_outside_alignment,
    )
