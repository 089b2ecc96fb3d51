"""Scheduled (effective-dated) publishing: ask for a draft to be published at a time, list, read, cancel.

Emits ``geo.alignment.publish_scheduled.v1`` and ``geo.alignment.publish_cancelled.v1``; the publish itself is
done when due by ``publish_due``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from territory_shared.audit import current_actor
from territory_shared.errors import Conflict, NotFound
from territory_shared.events.geo import AlignmentPublishScheduledV1

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.schedule import CANCELLED, PublishSchedule, effective_instant
from geo_service.use_cases.alignments import load_alignment
from geo_service.use_cases.publish_gate import approval_refusal, end_schedule


async def schedule_publish(
    uow: UnitOfWork,
    tenant_id: str,
    alignment_id: str,
    *,
    effective_at: datetime,
    time_zone: str,
    expected_version: int | None,
) -> PublishSchedule:
    """Publish a draft at ``effective_at``, wall-clock time in ``time_zone``.

    Refused: a time not in the future or a zone that does not exist (422, naming the field); an alignment that is
    not a draft, one its approval policy has not approved, or one already scheduled (409).
    """
    instant = effective_instant(effective_at, time_zone, datetime.now(UTC))
    async with uow:
        alignment = await load_alignment(uow, tenant_id, alignment_id, expected_version)
        alignment.require_draft("scheduled for publishing")
        refusal = await approval_refusal(uow, alignment)
        if refusal is not None:
            raise Conflict(
                f"Alignment {alignment.id} cannot be scheduled: {refusal}. Have it approved first.",
                field="alignment_id",
            )
        pending = await uow.schedules.pending_for(alignment.id)
        if pending is not None:
            raise Conflict(
                f"Alignment {alignment.id} is already scheduled for {pending.effective_at.isoformat()} "
                f"(schedule {pending.id}): cancel that one first.",
                schedule_id=pending.id,
            )
        schedule = PublishSchedule.new(
            tenant_id, alignment.id, alignment.sales_force, instant, time_zone, current_actor()
        )
        await uow.schedules.add(schedule)
        uow.emit(
            tenant_id,
            alignment.id,
            AlignmentPublishScheduledV1(
                schedule_id=schedule.id,
                alignment_id=alignment.id,
                sales_force=alignment.sales_force,
                effective_at=instant,
                time_zone=time_zone,
                local_time=schedule.local_time,
                by=schedule.created_by,
            ),
        )
        await uow.commit()  # a schedule made meanwhile for the same draft breaks the unique index: 409
        return schedule


async def get_schedule(uow: UnitOfWork, tenant_id: str, schedule_id: str) -> PublishSchedule:
    async with uow:
        schedule = await uow.schedules.get(tenant_id, schedule_id)
    if schedule is None:
        raise NotFound(f"Schedule {schedule_id} does not exist.")
    return schedule


async def list_schedules(
    uow: UnitOfWork, tenant_id: str, sales_force: str | None, state: str | None
) -> list[PublishSchedule]:
    async with uow:
        return await uow.schedules.list(tenant_id, sales_force, state)


async def cancel_schedule(uow: UnitOfWork, tenant_id: str, schedule_id: str) -> PublishSchedule:
    """Cancel a scheduled publish; one that is done, failed or cancelled already gets 409."""
    async with uow:
        schedule = await uow.schedules.get(tenant_id, schedule_id)
        if schedule is None:
            raise NotFound(f"Schedule {schedule_id} does not exist.")
        schedule.require_scheduled("cancelled")
        # The worker may have published it since it was read: the conditional update then matches nothing.
        if not await end_schedule(uow, schedule, CANCELLED, f"cancelled by {current_actor()}"):
            raise Conflict(f"Schedule {schedule_id} was published or ended meanwhile; it cannot be cancelled.")
        await uow.commit()
        return schedule
