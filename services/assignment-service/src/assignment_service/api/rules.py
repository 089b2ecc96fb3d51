from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from territory_shared.api.etags import etag_of
from territory_shared.api.problems import NotFound
from territory_shared.api.tenancy import TenantId
from territory_shared.jobs import Progress

from assignment_service.api.deps import ExpectedVersion, Geo, Jobs, Uow, job_location, unit_of_work
from assignment_service.db.overrides import overrides_page
from assignment_service.use_cases.apply_rule_set import apply_rule_set
from assignment_service.use_cases.rules import remove_override, save_rule_set, set_override

router = APIRouter(tags=["rules and overrides"])


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    precedence: int = Field(description="Rules are tried from the lowest precedence up; the first match wins")
    condition: str = Field(min_length=1, max_length=2000, examples=["industry = healthcare and size in (L, XL)"])
    territory_code: str | None = Field(
        default=None, min_length=1, max_length=64, description="The account-based territory the rule assigns"
    )
    geography: bool = Field(
        default=False,
        description="Matched accounts keep their geography territory and its primary rep "
        "(so not with territory_code or rep_external_id)",
    )
    rep_external_id: str | None = None


class RuleSetIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "fallback": "unassigned",
                    "rules": [
                        {
                            "name": "big-hc",
                            "precedence": 1,
                            "condition": "industry = healthcare and size in (L, XL)",
                            "territory_code": "HC-KEY",
                        },
                        {"name": "hc", "precedence": 2, "condition": "industry = healthcare", "geography": True},
                    ],
                }
            ]
        },
    )

    rules: list[RuleIn] = Field(max_length=1000)
    fallback: Literal["geography", "unassigned"] = Field(
        default="geography", description="Where an account no rule matches goes: its geography territory, or nowhere"
    )


class RuleSetRead(BaseModel):
    sales_force: str
    version: int
    fallback: str
    rules: list[dict[str, object]]
    updated_at: datetime
    updated_by: str | None = Field(description="Who saved this version")


class RuleSetJob(BaseModel):
    id: str
    status: str
    location: str = Field(description="GET it for the job's progress (stage, percent) and, once done, its result")


class RuleSetSaved(RuleSetRead):
    job: RuleSetJob = Field(description="The job applying this version to every account of the sales force")


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territory_code: str | None = Field(default=None, max_length=64)
    rep_external_id: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class OverrideRead(BaseModel):
    id: str
    sales_force: str
    account_external_id: str
    territory_code: str | None
    rep_id: str | None
    note: str | None
    created_at: datetime
    created_by: str | None = Field(description="Who set the override")


@router.put(
    "/v1/sales-forces/{sales_force}/rule-set",
    response_model=RuleSetSaved,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Save a sales force's rules (validated: syntax, fields, types, unreachable rules); a job applies them",
    description="The new version is stored before the answer (a GET shows it); its `job` recomputes every account "
    "(progress at `GET /v1/jobs/{id}`). A version saved while an earlier one's job runs supersedes that job.",
)
async def put_rule_set(
    sales_force: str,
    body: RuleSetIn,
    request: Request,
    tenant: TenantId,
    uow: Uow,
    geo: Geo,
    jobs: Jobs,
    response: Response,
    version: ExpectedVersion,
) -> RuleSetSaved:
    rules = [r.model_dump(exclude_none=True) for r in body.rules]
    record = await save_rule_set(uow, geo, tenant, sales_force, rules, body.fallback, version)
    saved = record.version
    job_uow = unit_of_work(request)  # the job outlives this request: a unit of work of its own

    async def work(progress: Progress) -> dict[str, Any]:
        return await apply_rule_set(job_uow, tenant, sales_force, saved, progress)

    job_id = await jobs.submit(tenant, "rule-set", work)
    location = job_location(request, job_id)
    response.headers["ETag"] = etag_of(record.version)
    response.headers["Location"] = location
    return RuleSetSaved(
        sales_force=sales_force,
        version=record.version,
        fallback=record.fallback,
        rules=record.rules,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
        job=RuleSetJob(id=job_id, status="queued", location=location),
    )


@router.get("/v1/sales-forces/{sales_force}/rule-set", response_model=RuleSetRead)
async def get_rule_set(sales_force: str, tenant: TenantId, uow: Uow, response: Response) -> RuleSetRead:
    async with uow:
        record = await uow.assignments.rule_set(tenant, sales_force)
    if record is None:
        raise NotFound(f"Sales force {sales_force!r} has no rule set.")
    response.headers["ETag"] = etag_of(record.version)
    return RuleSetRead(
        sales_force=sales_force,
        version=record.version,
        fallback=record.fallback,
        rules=record.rules,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
    )


@router.put(
    "/v1/sales-forces/{sales_force}/overrides/{account_external_id}",
    response_model=OverrideRead,
    summary="Pin a named account to a territory and/or rep (survives realignments until removed)",
)
async def put_override(
    sales_force: str, account_external_id: str, body: OverrideIn, tenant: TenantId, uow: Uow, geo: Geo
) -> OverrideRead:
    record = await set_override(
        uow, geo, tenant, sales_force, account_external_id, body.territory_code, body.rep_external_id, body.note
    )
    return OverrideRead(
        id=record.id,
        sales_force=sales_force,
        account_external_id=account_external_id,
        territory_code=record.territory_code,
        rep_id=record.rep_id,
        note=record.note,
        created_at=record.created_at,
        created_by=record.created_by,
    )


@router.delete(
    "/v1/sales-forces/{sales_force}/overrides/{account_external_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Lift an override (kept for audit); the account is assigned by rules and geography again",
)
async def delete_override(sales_force: str, account_external_id: str, tenant: TenantId, uow: Uow) -> Response:
    await remove_override(uow, tenant, sales_force, account_external_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class OverrideListed(OverrideRead):
    rep_external_id: str | None


class OverridePage(BaseModel):
    items: list[OverrideListed]
    next: str | None = Field(description="URL of the next page, or null on the last page")
    next_cursor: str | None = Field(description="The `after` of the next page (its last account), or null")


@router.get(
    "/v1/sales-forces/{sales_force}/overrides",
    response_model=OverridePage,
    summary="The overrides in force in a sales force, by account external id, page by page",
    description="Lift one with `DELETE /v1/sales-forces/{sales_force}/overrides/{account_external_id}`.",
)
async def list_overrides(
    sales_force: str,
    request: Request,
    tenant: TenantId,
    uow: Uow,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=100, description="The next_cursor of the previous page")] = None,
) -> OverridePage:
    async with uow:
        if await uow.assignments.sales_force(tenant, sales_force) is None:
            raise NotFound(f"Sales force {sales_force!r} does not exist.", field="sales_force")
        rows = await overrides_page(uow.session, tenant, sales_force, after, limit + 1)
    items = [OverrideListed(**{k: getattr(r, k) for k in OverrideListed.model_fields}) for r in rows[:limit]]
    cursor = items[-1].account_external_id if len(rows) > limit else None
    next_url = str(request.url.include_query_params(after=cursor)) if cursor else None
    return OverridePage(items=items, next=next_url, next_cursor=cursor)
