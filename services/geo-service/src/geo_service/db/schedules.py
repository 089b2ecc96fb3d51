from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from geo_service.db.records import PublishScheduleRecord
from geo_service.domain.schedule import DONE, SCHEDULED, PublishSchedule, as_utc

S = PublishScheduleRecord


class ScheduleRepository:
    """Scheduled publishes. Every change of state is a conditional UPDATE (``WHERE state = 'scheduled'``), so a
    cancel and the worker racing for one schedule cannot both win."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, schedule: PublishSchedule) -> None:
        self._session.add(
            S(
                id=schedule.id,
                tenant_id=schedule.tenant_id,
                alignment_id=schedule.alignment_id,
                sales_force=schedule.sales_force,
                effective_at=schedule.effective_at,
                time_zone=schedule.time_zone,
                state=schedule.state,
                created_by=schedule.created_by,
                created_at=schedule.created_at,
                attempts=0,
            )
        )

    async def get(self, tenant_id: str, schedule_id: str) -> PublishSchedule | None:
        record = (await self._session.execute(select(S).where(S.id == schedule_id))).scalars().first()
        return _to_domain(record) if record is not None and record.tenant_id == tenant_id else None

    async def list(self, tenant_id: str, sales_force: str | None, state: str | None) -> list[PublishSchedule]:
        query = select(S).where(S.tenant_id == tenant_id)
        if sales_force:
            query = query.where(S.sales_force == sales_force)
        if state:
            query = query.where(S.state == state)
        rows = (await self._session.execute(query.order_by(S.effective_at, S.created_at))).scalars()
        return [_to_domain(r) for r in rows]

    async def pending_for(self, alignment_id: str) -> PublishSchedule | None:
        query = select(S).where(S.alignment_id == alignment_id, S.state == SCHEDULED)
        record = (await self._session.execute(query)).scalars().first()
        return _to_domain(record) if record is not None else None

    async def claim_due(self, now: datetime) -> PublishSchedule | None:
        """Take the earliest due schedule, marking it done in the caller's transaction (undone by a rollback).

        On PostgreSQL a row another replica holds is skipped (``FOR UPDATE SKIP LOCKED``), and the conditional
        UPDATE makes a row committed meanwhile no longer match. On SQLite the UPDATE is the transaction's first
        statement, so it takes the one write lock before reading: a second writer waits, then finds it done.
        """
        due = (
            select(S.id)
            .where(S.state == SCHEDULED, S.effective_at <= now)
            .order_by(S.effective_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed = (
            await self._session.execute(
                update(S)
                .where(S.id == due, S.state == SCHEDULED)
                .values(state=DONE, done_at=now, outcome="published")
                .returning(S.id)
                .execution_options(synchronize_session=False)
            )
        ).scalar()
        if claimed is None:
            return None
        record = (
            await self._session.execute(select(S).where(S.id == claimed).execution_options(populate_existing=True))
        ).scalar_one()
        return _to_domain(record)

    async def finish(
        self, schedule_id: str, state: str, *, at: datetime, by: str | None, outcome: str, from_state: str = SCHEDULED
    ) -> bool:
        """Move a schedule from ``from_state`` to its end; False when it was no longer there."""
        result = await self._session.execute(
            update(S)
            .where(S.id == schedule_id, S.state == from_state)
            .values(state=state, done_at=at, done_by=by, outcome=outcome[:1000])
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def record_failed_attempt(self, schedule_id: str, error: str) -> int | None:
        """Count a try that failed for a passing reason; the attempts so far, or None if no longer scheduled."""
        result = await self._session.execute(
            update(S)
            .where(S.id == schedule_id, S.state == SCHEDULED)
            .values(attempts=S.attempts + 1, outcome=error[:1000])
            .returning(S.attempts)
            .execution_options(synchronize_session=False)
        )
        return result.scalar()


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


def _to_domain(r: S) -> PublishSchedule:
    return PublishSchedule(
        id=r.id,
        tenant_id=r.tenant_id,
        alignment_id=r.alignment_id,
        sales_force=r.sales_force,
        effective_at=as_utc(r.effective_at),
        time_zone=r.time_zone,
        state=r.state,
        created_by=r.created_by,
        created_at=as_utc(r.created_at),
        done_at=as_utc(r.done_at) if r.done_at else None,
        done_by=r.done_by,
        outcome=r.outcome,
        attempts=r.attempts,
    )
