"""Realignment runs, idempotency keys and webhooks (with their deliveries)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assignment_service.db.records import (
    IdempotencyRecord,
    RealignmentRunRecord,
    WebhookDeliveryRecord,
    WebhookRecord,
)
from assignment_service.db.rows import AnyRow

D = WebhookDeliveryRecord.__table__


class RunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def run_for(self, tenant_id: str, alignment_id: str, version: int) -> RealignmentRunRecord | None:
        q = select(RealignmentRunRecord).where(
            RealignmentRunRecord.tenant_id == tenant_id,
            RealignmentRunRecord.alignment_id == alignment_id,
            RealignmentRunRecord.alignment_version == version,
        )
        return (await self._s.execute(q)).scalar_one_or_none()

    async def superseded(self, tenant_id: str, sales_force: str, alignment_id: str) -> bool:
        """A run replaced this alignment already (only a draft can be published, and never again once replaced)."""
        q = select(RealignmentRunRecord.id).where(
            RealignmentRunRecord.tenant_id == tenant_id,
            RealignmentRunRecord.sales_force == sales_force,
            RealignmentRunRecord.previous_alignment_id == alignment_id,
        )
        return (await self._s.execute(q.limit(1))).first() is not None

    async def run(self, tenant_id: str, run_id: str) -> RealignmentRunRecord | None:
        run = await self._s.get(RealignmentRunRecord, run_id)
        return run if run is not None and run.tenant_id == tenant_id else None

    async def runs(
        self, tenant_id: str, sales_force: str | None, limit: int, offset: int
    ) -> list[RealignmentRunRecord]:
        q = select(RealignmentRunRecord).where(RealignmentRunRecord.tenant_id == tenant_id)
        if sales_force:
            q = q.where(RealignmentRunRecord.sales_force == sales_force)
        q = q.order_by(RealignmentRunRecord.started_at.desc()).limit(limit).offset(offset)
        return list((await self._s.execute(q)).scalars())

    def add(self, record: object) -> None:
        self._s.add(record)

    async def idempotency(self, tenant_id: str, key: str) -> IdempotencyRecord | None:
        return await self._s.get(IdempotencyRecord, (tenant_id, key))

    async def webhooks(self, tenant_id: str) -> list[WebhookRecord]:
        q = select(WebhookRecord).where(WebhookRecord.tenant_id == tenant_id).order_by(WebhookRecord.created_at)
        return list((await self._s.execute(q)).scalars())

    async def webhook(self, tenant_id: str, webhook_id: str) -> WebhookRecord | None:
        hook = await self._s.get(WebhookRecord, webhook_id)
        return hook if hook is not None and hook.tenant_id == tenant_id else None

    async def add_deliveries(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self._s.execute(insert(D), rows)

    async def deliveries(self, tenant_id: str, webhook_id: str, limit: int) -> list[WebhookDeliveryRecord]:
        q = (
            select(WebhookDeliveryRecord)
            .where(WebhookDeliveryRecord.tenant_id == tenant_id, WebhookDeliveryRecord.webhook_id == webhook_id)
            .order_by(WebhookDeliveryRecord.seq.desc())
            .limit(limit)
        )
        return list((await self._s.execute(q)).scalars())

    async def due_deliveries(self, now: datetime, limit: int) -> Sequence[AnyRow]:
        q = (
            select(D, WebhookRecord.url, WebhookRecord.secret)
            .join(WebhookRecord, WebhookRecord.id == D.c.webhook_id)
            .where(D.c.status == "pending", D.c.next_attempt_at <= now)
            .order_by(D.c.next_attempt_at, D.c.seq)
            .limit(limit)
        )
        if self._s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(of=D, skip_locked=True)
        return (await self._s.execute(q)).all()

    async def mark_delivery(self, seq: int, **values: Any) -> None:
        await self._s.execute(update(D).where(D.c.seq == seq).values(**values))
