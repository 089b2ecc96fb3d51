"""What publishing a draft checks and settles, by hand or on schedule: its approval, and its pending schedule.

A draft its sales force's policy has not approved at its current version is refused (409) unless an admin
overrides it, which is recorded as a step and ``geo.alignment.approval_overridden.v1``. Publishing a draft by hand
cancels its pending schedule (``geo.alignment.publish_cancelled.v1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from territory_shared.audit import current_actor
from territory_shared.errors import Conflict
from territory_shared.events.geo import AlignmentApprovalOverriddenV1, AlignmentPublishCancelledV1

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain import approval as approvals
from geo_service.domain.alignment import DRAFT, Alignment
from geo_service.domain.approval import ApprovalPolicy, ApprovalStatus
from geo_service.domain.schedule import CANCELLED, FAILED, SCHEDULED, PublishSchedule


@dataclass
class AlignmentApproval:
    alignment: Alignment
    policy: ApprovalPolicy | None
    status: ApprovalStatus


async def alignment_approval(uow: UnitOfWork, alignment: Alignment) -> AlignmentApproval:
    policy = await uow.approvals.policy(alignment.tenant_id, alignment.sales_force)
    steps = await uow.approvals.steps(alignment.id)
    status = approvals.approval_status(policy, steps, alignment.version, draft=alignment.state == DRAFT)
    return AlignmentApproval(alignment, policy, status)


async def require_approval(uow: UnitOfWork, alignment: Alignment, *, override: bool) -> None:
    """Inside a publish: refuse (409) a draft its policy has not approved at this version; with ``override`` (an
    admin's), record the override as a step and an event instead. Nothing is recorded when nothing is bypassed."""
    found = await alignment_approval(uow, alignment)
    status = found.status
    if not status.required or status.approved:
        return
    if not override:
        raise Conflict(
            f"Alignment {alignment.id} needs approval before it is published: its approval is {status.state} at "
            f"version {alignment.version}"
            + (f" (waiting for level {status.current_level})" if status.current_level else "")
            + ". Submit it and have it approved, or an admin may publish with override_approval=true.",
            approval_state=status.state,
            current_level=status.current_level,
        )
    step = approvals.override(status, by=current_actor(), version=alignment.version)
    await uow.approvals.add_step(alignment.tenant_id, alignment.id, step)
    uow.emit(
        alignment.tenant_id,
        alignment.id,
        AlignmentApprovalOverriddenV1(
            alignment_id=alignment.id,
            sales_force=alignment.sales_force,
            version=alignment.version,
            approval_state=status.state,
            by=step.by,
        ),
    )


async def approval_refusal(uow: UnitOfWork, alignment: Alignment) -> str | None:
    """Why the draft cannot be published now without an override, or None."""
    status = (await alignment_approval(uow, alignment)).status
    if not status.required or status.approved:
        return None
    return f"approval required: the draft's approval is {status.state} at version {alignment.version}"


async def cancel_pending_schedule(uow: UnitOfWork, alignment: Alignment, reason: str) -> PublishSchedule | None:
    """End the draft's pending schedule (if any) in the caller's transaction, telling why."""
    schedule = await uow.schedules.pending_for(alignment.id)
    if schedule is None:
        return None
    await end_schedule(uow, schedule, CANCELLED, reason)
    return schedule


async def end_schedule(
    uow: UnitOfWork, schedule: PublishSchedule, state: str, reason: str, *, from_state: str = SCHEDULED
) -> bool:
    """Cancel or fail a scheduled publish and tell it; False when it was no longer ``from_state``."""
    assert state in (CANCELLED, FAILED)
    by, at = current_actor(), datetime.now(UTC)
    if not await uow.schedules.finish(schedule.id, state, at=at, by=by, outcome=reason, from_state=from_state):
        return False
    schedule.state, schedule.outcome, schedule.done_by, schedule.done_at = state, reason, by, at
    uow.emit(
        schedule.tenant_id,
        schedule.alignment_id,
        AlignmentPublishCancelledV1(
            schedule_id=schedule.id,
            alignment_id=schedule.alignment_id,
            sales_force=schedule.sales_force,
            effective_at=schedule.effective_at,
            state=state,
            reason=reason,
            by=by,
        ),
    )
    return True
