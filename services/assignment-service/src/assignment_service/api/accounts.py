from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from territory_shared.api.etags import etag_of
from territory_shared.api.limits import UPLOAD_BODY
from territory_shared.api.problems import PROBLEM_JSON, NotFound
from territory_shared.api.tenancy import RepScope, TenantId

from assignment_service.api.account_filters import Filters, resolve
from assignment_service.api.deps import Geo, Uow, Zips
from assignment_service.api.readers import HashingStream, rows_for
from assignment_service.api.rep_scope import OwnRep, check_account_is_theirs
from assignment_service.api.schemas import AccountPage, AccountRead, account_read
from assignment_service.use_cases.delete_account import delete_account
from assignment_service.use_cases.idempotency import Idempotency
from assignment_service.use_cases.upsert_accounts import upsert_accounts

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


class AssignmentRead(BaseModel):
    sales_force: str
    territory_code: str | None
    rep_id: str | None
    cause: str
    rule: str | None
    reason: str | None
    unit_id: str | None
    alignment_id: str | None
    updated_at: datetime


class HistoryRead(BaseModel):
    seq: int
    sales_force: str
    from_territory_code: str | None
    to_territory_code: str | None
    from_rep_id: str | None
    to_rep_id: str | None
    cause: str
    reason: str | None
    trigger: str
    run_id: str | None
    alignment_id: str | None
    changed_at: datetime
    changed_by: str | None = Field(description="Who made the change (a token's subject, api-key:<name>, system)")


def assignment_read(row: Any) -> AssignmentRead:
    return AssignmentRead(
        sales_force=row.sales_force,
        territory_code=row.territory_code,
        rep_id=row.rep_id,
        cause=row.cause,
        rule=row.rule,
        reason=row.reason,
        unit_id=row.geo_unit_id,
        alignment_id=row.alignment_id,
        updated_at=row.updated_at,
    )


@router.post(
    "/bulk",
    openapi_extra=UPLOAD_BODY,
    summary="Upsert accounts by external id (JSON array, NDJSON or CSV; streamed; 100,000+ per request)",
    description=(
        "Each row: external_id, lat+lon or zip (a US ZIP resolves to its point, precision zip-centroid), name, "
        "potential, revenue, industry, size (S/M/L/XL), visits_per_year, workload_hours, custom.<name> numbers. "
        "Rows that fail validation are listed by line with the reason; the valid rows are applied, or none with "
        "all_or_nothing=true. Send an Idempotency-Key: a retried request gets the first answer and changes nothing."
    ),
)
async def bulk_upsert(
    request: Request,
    tenant: TenantId,
    uow: Uow,
    geo: Geo,
    zips: Zips,
    all_or_nothing: bool = False,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    body = HashingStream(request.stream())
    idempotency = Idempotency(idempotency_key, body.read_all) if idempotency_key else None
    if idempotency is not None:
        earlier = await idempotency.earlier_answer(uow, tenant)
        if earlier is not None:
            return JSONResponse(earlier.response, earlier.status_code, headers={"Idempotent-Replayed": "true"})
    rows = rows_for(request.headers.get("content-type", "application/json"), body.__aiter__())
    report = await upsert_accounts(uow, geo, zips, tenant, rows, all_or_nothing=all_or_nothing, idempotency=idempotency)
    if not report.applied:
        return JSONResponse(
            {
                "type": "about:blank",
                "title": "Invalid rows",
                "status": 422,
                "detail": f"{report.rejected:,} row(s) failed validation; all_or_nothing: nothing was applied.",
                "instance": request.url.path,
                **report.as_dict(),
            },
            status_code=422,
            media_type=PROBLEM_JSON,
        )
    return JSONResponse(report.as_dict())


MAX_PAGE = 1000


@router.get(
    "",
    response_model=AccountPage,
    summary="Search live accounts, page by page",
    description=(
        "Every filter given must hold: `name` (a part of it, ignoring case), `external_id`, `industry` (ignoring "
        "case), `potential_min` / `potential_max` (inclusive), and the owner filters `territory_code`, `rep` (external "
        "id or id) and `unassigned`, which look in `sales_force` (`rep` without it: assigned in any sales force). "
        "Pages follow the account id: pass `next_cursor` as `after`, or follow `next`; paging through gives each "
        "account once. A rep's credentials list the accounts assigned to them only. A filter that cannot hold "
        "(`potential_min` above `potential_max`, an unknown `sales_force` or `rep`, an owner filter without "
        "`sales_force`) or a `limit` above 1,000 is a 422 naming the parameter."
    ),
)
async def list_accounts(
    request: Request,
    tenant: TenantId,
    uow: Uow,
    rep: OwnRep,
    rep_external_id: RepScope,
    filters: Filters,
    sales_force: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Where territory_code, rep and unassigned look")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: Annotated[str | None, Query(max_length=36, description="The next_cursor of the previous page")] = None,
) -> AccountPage:
    async with uow:
        where = await resolve(uow, tenant, filters, sales_force, rep, rep_external_id)
        rows = await uow.accounts.search(tenant, where, after, limit + 1)
    items = [account_read(r) for r in rows[:limit]]
    cursor = rows[limit - 1].id if len(rows) > limit else None
    next_url = str(request.url.include_query_params(after=cursor)) if cursor else None
    return AccountPage(items=items, next=next_url, next_cursor=cursor)


@router.get("/{external_id}", response_model=AccountRead, name="get_account")
async def get_account(external_id: str, tenant: TenantId, uow: Uow, rep: OwnRep, response: Response) -> BaseModel:
    async with uow:
        row = await uow.accounts.get(tenant, external_id)
        if row is None:
            raise NotFound(f"Account {external_id} does not exist.")
        await check_account_is_theirs(uow, tenant, row.id, rep, external_id)
    response.headers["ETag"] = etag_of(row.version)
    return account_read(row)


@router.delete("/{external_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete (history is kept)")
async def delete(external_id: str, tenant: TenantId, uow: Uow) -> Response:
    await delete_account(uow, tenant, external_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{external_id}/assignments", response_model=list[AssignmentRead], summary="Current owner per sales force")
async def assignments_of(external_id: str, tenant: TenantId, uow: Uow, rep: OwnRep) -> list[AssignmentRead]:
    async with uow:
        row = await uow.accounts.get(tenant, external_id)
        if row is None:
            raise NotFound(f"Account {external_id} does not exist.")
        await check_account_is_theirs(uow, tenant, row.id, rep, external_id)
        return [assignment_read(r) for r in await uow.assignments.of_account(tenant, row.id)]


@router.get("/{external_id}/history", response_model=list[HistoryRead], summary="Every change of owner (audit)")
async def history_of(
    external_id: str, tenant: TenantId, uow: Uow, rep: OwnRep, sales_force: Annotated[str | None, Query()] = None
) -> list[HistoryRead]:
    async with uow:
        row = await uow.accounts.get(tenant, external_id)
        if row is None:
            raise NotFound(f"Account {external_id} does not exist.")
        await check_account_is_theirs(uow, tenant, row.id, rep, external_id)
        rows = await uow.assignments.history_of(tenant, row.id)
    return [
        HistoryRead(**{k: getattr(r, k) for k in HistoryRead.model_fields})
        for r in rows
        if sales_force is None or r.sales_force == sales_force
    ]
