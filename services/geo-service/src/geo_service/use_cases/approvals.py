"""Approval of drafts: a sales force's policy, and submit / approve / reject, each a step with who and when.

Emits ``geo.alignment.submitted.v1``, ``.approved.v1``, ``.rejected.v1``. What a publish checks is in
``publish_gate``.
"""

from __future__ import annotations

from territory_shared.audit import current_actor
from territory_shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from territory_shared.events.geo import (
    AlignmentApprovedV1,
    AlignmentRejectedV1,
    AlignmentSubmittedV1,
)

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain import approval as approvals
from geo_service.domain.approval import APPROVED, REJECTED, ApprovalLevel, ApprovalPolicy
from geo_service.use_cases.alignments import load_alignment
from geo_service.use_cases.publish_gate import AlignmentApproval
from geo_service.use_cases.publish_gate import alignment_approval as _approval


async def put_policy(
    uow: UnitOfWork,
    tenant_id: str,
    sales_force: str,
    levels: list[ApprovalLevel],
    allow_self_approval: bool,
    expected_version: int | None,
) -> ApprovalPolicy:
    """Create or replace a sales force's policy. Drafts pending under the old one go on under the new levels."""
    _check_levels(levels)
    async with uow:
        policy = await uow.approvals.policy(tenant_id, sales_force)
        if policy is None:
            if expected_version is not None:
                raise PreconditionFailed(f"Sales force {sales_force!r} has no approval policy to replace.")
            policy = ApprovalPolicy.new(tenant_id, sales_force, levels, allow_self_approval, current_actor())
        else:
            _check_version(policy, expected_version)
            policy.replace(levels, allow_self_approval, current_actor())
        await uow.approvals.put_policy(policy)
        await uow.commit()
        return policy


async def get_policy(uow: UnitOfWork, tenant_id: str, sales_force: str) -> ApprovalPolicy:
    async with uow:
        policy = await uow.approvals.policy(tenant_id, sales_force)
    if policy is None:
        raise NotFound(f"Sales force {sales_force!r} has no approval policy: its drafts need no approval.")
    return policy


async def delete_policy(uow: UnitOfWork, tenant_id: str, sales_force: str, expected_version: int | None) -> None:
    """No policy: the sales force's drafts need no approval again."""
    async with uow:
        policy = await uow.approvals.policy(tenant_id, sales_force)
        if policy is None:
            raise NotFound(f"Sales force {sales_force!r} has no approval policy.")
        _check_version(policy, expected_version)
        await uow.approvals.delete_policy(tenant_id, sales_force)
        await uow.commit()


async def approval_of(uow: UnitOfWork, tenant_id: str, alignment_id: str) -> AlignmentApproval:
    async with uow:
        return await _approval(uow, await load_alignment(uow, tenant_id, alignment_id))


async def submit_alignment(
    uow: UnitOfWork, tenant_id: str, alignment_id: str, comment: str | None, expected_version: int | None
) -> AlignmentApproval:
    """Submit a draft (at the version given by If-Match, when given) for approval: a new round starts."""
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.require_draft("submitted for approval")
        found = await _approval(uow, alignment)
        step = approvals.submission(found.status, by=current_actor(), comment=comment, version=alignment.version)
        assert found.policy is not None  # a submission needs a policy
        await uow.approvals.add_step(tenant_id, alignment.id, step)
        uow.emit(
            tenant_id,
            alignment.id,
            AlignmentSubmittedV1(
                alignment_id=alignment.id,
                sales_force=alignment.sales_force,
                version=alignment.version,
                levels=len(found.policy.levels),
                by=step.by,
                comment=comment,
            ),
        )
        await uow.commit()
        return await _approval(uow, alignment)


async def decide_alignment(
    uow: UnitOfWork,
    tenant_id: str,
    alignment_id: str,
    *,
    decision: str,
    roles: frozenset[str],
    comment: str | None,
    expected_version: int | None,
) -> AlignmentApproval:
    """Approve or reject the pending level of a draft's approval as the current caller (who holds ``roles``).

    A rejection needs a comment (422). Two decisions made at once cannot both count: the second gets 409.
    """
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        if decision == REJECTED and not (comment and comment.strip()):
            raise InvalidInput("A rejection needs a comment saying what to change.", field="comment")
        alignment.require_draft("approved or rejected")
        found = await _approval(uow, alignment)
        if found.policy is None:
            raise Conflict(
                "This sales force has no approval policy: there is nothing to approve.",
                approval_state=found.status.state,
            )
        step = approvals.decide(
            found.status, found.policy, decision=decision, by=current_actor(), roles=roles, comment=comment
        )
        assert step.level is not None
        await uow.approvals.add_step(tenant_id, alignment.id, step)
        level_name = found.policy.levels[step.level - 1].name
        if decision == APPROVED:
            uow.emit(
                tenant_id,
                alignment.id,
                AlignmentApprovedV1(
                    alignment_id=alignment.id,
                    sales_force=alignment.sales_force,
                    version=step.version,
                    level=step.level,
                    level_name=level_name,
                    final=step.level == len(found.policy.levels),
                    by=step.by,
                    comment=comment,
                ),
            )
        else:
            uow.emit(
                tenant_id,
                alignment.id,
                AlignmentRejectedV1(
                    alignment_id=alignment.id,
                    sales_force=alignment.sales_force,
                    version=step.version,
                    level=step.level,
                    level_name=level_name,
                    by=step.by,
                    comment=comment or "",
                ),
            )
        await uow.commit()
        return await _approval(uow, alignment)


def _check_levels(levels: list[ApprovalLevel]) -> None:
    errors = []
    seen: set[str] = set()
    for i, level in enumerate(levels):
        if not level.roles and not level.users:
            errors.append({"field": f"levels.{i}", "reason": "a level names at least one role or user"})
        if level.name in seen:
            errors.append({"field": f"levels.{i}.name", "reason": f"two levels are called {level.name!r}"})
        seen.add(level.name)
    if errors:
        raise InvalidInput(
            "; ".join(f"{e['field']}: {e['reason']}" for e in errors), field=errors[0]["field"], errors=errors
        )


def _check_version(policy: ApprovalPolicy, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != policy.version:
        raise PreconditionFailed(
            f"The approval policy of {policy.sales_force!r} is at version {policy.version}, not {expected_version}: "
            "it changed since you read it. Reload and retry.",
            current_version=policy.version,
        )
