"""Approval policies of sales forces, and the approval of drafts: submit, approve, reject."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field
from territory_shared.api.auth import Caller
from territory_shared.api.etags import etag_of
from territory_shared.api.tenancy import TenantId

from geo_service.api.deps import ExpectedVersion, Uow
from geo_service.domain.approval import APPROVED, REJECTED, ApprovalLevel, ApprovalPolicy
from geo_service.use_cases.approvals import approval_of as read_approval
from geo_service.use_cases.approvals import decide_alignment, delete_policy, get_policy, put_policy, submit_alignment
from geo_service.use_cases.publish_gate import AlignmentApproval

router = APIRouter(tags=["approvals"])

Comment = Annotated[str, Field(max_length=2000)]
# The roles that can call approve and reject: a level naming another could never be approved.
ApproverRole = Literal["admin", "planner", "manager"]


class LevelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100, examples=["Regional VP"])]
    roles: list[ApproverRole] = Field(default=[], max_length=3, description="Any caller with one of these roles")
    users: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default=[], max_length=100, description="Named approvers: token subjects (or api-key:<id>)"
    )


class PolicyBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "levels": [
                        {"name": "Sales ops", "roles": ["planner"]},
                        {"name": "Regional VP", "roles": ["manager"], "users": ["alice"]},
                    ],
                    "allow_self_approval": False,
                }
            ]
        },
    )

    levels: Annotated[list[LevelBody], Field(min_length=1, max_length=10, description="Approved in this order")]
    allow_self_approval: bool = Field(default=False, description="May whoever submitted a draft approve it?")


class LevelRead(BaseModel):
    name: str
    roles: list[str]
    users: list[str]


class PolicyRead(BaseModel):
    sales_force: str
    levels: list[LevelRead]
    allow_self_approval: bool
    version: int
    updated_by: str
    updated_at: datetime


class StepRead(BaseModel):
    level: int | None = Field(description="1-based level of an approval or rejection; null otherwise")
    decision: Literal["submitted", "approved", "rejected", "overridden"]
    by: str
    comment: str | None
    at: datetime
    version: int = Field(description="The alignment version the step is about")


class ApprovalRead(BaseModel):
    alignment_id: str
    required: bool
    state: Literal["not_required", "not_submitted", "pending", "approved", "rejected"]
    version: int = Field(description="The alignment version this state is about")
    current_level: int | None = Field(description="The level to decide next (1-based), while pending")
    levels: list[LevelRead]
    steps: list[StepRead]


class CommentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Comment | None = None


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"comment": "Keep Wake in EAST"}]})

    comment: Comment = Field(description="What to change: required")


def _levels(policy: ApprovalPolicy | None) -> list[LevelRead]:
    if policy is None:
        return []
    return [LevelRead(name=lv.name, roles=list(lv.roles), users=list(lv.users)) for lv in policy.levels]


def _policy(policy: ApprovalPolicy, response: Response) -> PolicyRead:
    response.headers["ETag"] = etag_of(policy.version)
    return PolicyRead(
        sales_force=policy.sales_force,
        levels=_levels(policy),
        allow_self_approval=policy.allow_self_approval,
        version=policy.version,
        updated_by=policy.updated_by,
        updated_at=policy.updated_at,
    )


def _approval(found: AlignmentApproval) -> ApprovalRead:
    s = found.status
    return ApprovalRead(
        alignment_id=found.alignment.id,
        required=s.required,
        state=s.state,
        version=s.version,
        current_level=s.current_level,
        levels=_levels(found.policy),
        steps=[
            StepRead(
                level=st.level,
                decision=st.decision,
                by=st.by,
                comment=st.comment,
                at=st.at,
                version=st.version,
            )
            for st in s.steps
        ],
    )


POLICY = "/v1/sales-forces/{sales_force}/approval-policy"


@router.put(POLICY, response_model=PolicyRead, summary="Set the approval policy drafts of this sales force pass")
async def put(
    sales_force: str, body: PolicyBody, tenant: TenantId, uow: Uow, version: ExpectedVersion, response: Response
) -> PolicyRead:
    levels = [ApprovalLevel(lv.name, tuple(lv.roles), tuple(lv.users)) for lv in body.levels]
    return _policy(await put_policy(uow, tenant, sales_force, levels, body.allow_self_approval, version), response)


@router.get(POLICY, response_model=PolicyRead, summary="The approval policy of a sales force (404: none)")
async def get(sales_force: str, tenant: TenantId, uow: Uow, response: Response) -> PolicyRead:
    return _policy(await get_policy(uow, tenant, sales_force), response)


@router.delete(
    POLICY, status_code=status.HTTP_204_NO_CONTENT, summary="Remove the policy: drafts need no approval again"
)
async def delete(sales_force: str, tenant: TenantId, uow: Uow, version: ExpectedVersion) -> Response:
    await delete_policy(uow, tenant, sales_force, version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/alignments/{alignment_id}/approval", response_model=ApprovalRead, summary="Where a draft's approval stands"
)
async def approval(alignment_id: str, tenant: TenantId, uow: Uow) -> ApprovalRead:
    return _approval(await read_approval(uow, tenant, alignment_id))


@router.post(
    "/v1/alignments/{alignment_id}/submit",
    response_model=ApprovalRead,
    summary="Submit a draft for approval (at the version If-Match names, when given)",
)
async def submit(
    alignment_id: str, tenant: TenantId, uow: Uow, version: ExpectedVersion, body: CommentBody | None = None
) -> ApprovalRead:
    comment = body.comment if body else None
    return _approval(await submit_alignment(uow, tenant, alignment_id, comment, version))


@router.post(
    "/v1/alignments/{alignment_id}/approve",
    response_model=ApprovalRead,
    summary="Approve the pending level of a draft's approval",
    description="Only a caller the level names (by role or as a user) may; the submitter may not, unless the "
    "policy allows self-approval (403 otherwise).",
)
async def approve(
    alignment_id: str,
    tenant: TenantId,
    uow: Uow,
    caller: Caller,
    version: ExpectedVersion,
    body: CommentBody | None = None,
) -> ApprovalRead:
    comment = body.comment if body else None
    return _approval(
        await decide_alignment(
            uow,
            tenant,
            alignment_id,
            decision=APPROVED,
            roles=caller.roles,
            comment=comment,
            expected_version=version,
        )
    )


@router.post(
    "/v1/alignments/{alignment_id}/reject",
    response_model=ApprovalRead,
    summary="Reject a draft at its pending level, saying why; the planner may edit and submit again",
)
async def reject(
    alignment_id: str, body: RejectBody, tenant: TenantId, uow: Uow, caller: Caller, version: ExpectedVersion
) -> ApprovalRead:
    return _approval(
        await decide_alignment(
            uow,
            tenant,
            alignment_id,
            decision=REJECTED,
            roles=caller.roles,
            comment=body.comment,
            expected_version=version,
        )
    )
