"""Publish every due schedule exactly once: geo-service's own publish, made by its schedule worker.

Each schedule is claimed and published in ONE transaction: its state goes from ``scheduled`` to ``done`` in the
commit that activates the alignment and writes its outbox events. A crash before that commit leaves it
scheduled, and whichever worker runs next (a process that was down, when it starts) publishes it then. Several
replicas may run the worker: each claims a different row (see ``ScheduleRepository.claim_due``).

A schedule that cannot be published for a reason retrying will not cure (the alignment was deleted, is no longer a
draft, or its approval lapsed because it was edited) ends ``failed`` with the reason. Any other failure is tried
again on the next pass, up to ``max_attempts`` tries, then the schedule fails with the last error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from territory_shared.actor import acting_as

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.alignment import DRAFT
from geo_service.domain.schedule import FAILED, PublishSchedule
from geo_service.use_cases.alignments import stage_publish
from geo_service.use_cases.publish_gate import approval_refusal, end_schedule

log = logging.getLogger(__name__)


async def publish_due(new_uow: Callable[[], UnitOfWork], *, max_attempts: int, now: datetime | None = None) -> int:
    """Publish (or fail) every schedule due at ``now``; how many were handled. Stops at the first passing
    failure, which is tried again on the next pass."""
    handled = 0
    while True:
        outcome = await _publish_one(new_uow, max_attempts, now or datetime.now(UTC))
        if outcome is None:
            return handled
        handled += 1
        if not outcome:
            return handled


async def _publish_one(new_uow: Callable[[], UnitOfWork], max_attempts: int, now: datetime) -> bool | None:
    """None: nothing due. True: published, or failed for good. False: a passing failure (tried again later)."""
    claimed: PublishSchedule | None = None
    try:
        async with new_uow() as uow:
            claimed = await uow.schedules.claim_due(now)
            if claimed is None:
                return None
            alignment = await uow.alignments.get(claimed.tenant_id, claimed.alignment_id)
            if alignment is None:
                reason: str | None = "the alignment no longer exists"
            elif alignment.state != DRAFT:
                reason = f"the alignment is {alignment.state}, no longer a draft"
            else:
                reason = await approval_refusal(uow, alignment)
            if alignment is None or reason is not None:
                await end_schedule(uow, claimed, FAILED, reason or "", from_state=claimed.state)
                log.warning("scheduled publish %s failed: %s", claimed.id, reason)
            else:
                # Published for whoever scheduled it: the events and the audit log name them.
                with acting_as(claimed.created_by):
                    await stage_publish(uow, alignment)
            await uow.commit()
            return True
    except Exception as exc:  # noqa: BLE001 - a passing failure must not end the worker; it is counted below
        if claimed is None:
            raise
        log.warning("scheduled publish %s failed; will retry", claimed.id, exc_info=True)
        await _count_failure(new_uow, claimed, f"{type(exc).__name__}: {exc}", max_attempts)
        return False


async def _count_failure(
    new_uow: Callable[[], UnitOfWork], schedule: PublishSchedule, error: str, max_attempts: int
) -> None:
    async with new_uow() as uow:
        attempts = await uow.schedules.record_failed_attempt(schedule.id, error)
        if attempts is not None and attempts >= max_attempts:
            await end_schedule(uow, schedule, FAILED, f"failed {attempts} times; last: {error}")
        await uow.commit()
