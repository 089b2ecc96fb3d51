"""Events assignment-service consumes, and what each one does."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.events.envelope import CloudEvent
from territory_shared.events.geo import AlignmentPublishedV1
from territory_shared.messaging.inbox import Handler

from assignment_service.db.unit_of_work import UnitOfWork
from assignment_service.use_cases.ports import GeoClient
from assignment_service.use_cases.realign import apply_published_alignment
from assignment_service.use_cases.webhooks import APPROVAL_EVENT_TYPES, queue_deliveries


def make_handlers(geo: GeoClient) -> Mapping[str, Handler]:
    async def on_alignment_published(session: AsyncSession, event: CloudEvent) -> None:
        data = AlignmentPublishedV1.model_validate(event.data)
        await apply_published_alignment(UnitOfWork.in_session(session), geo, event.tenantid, data)

    async def deliver(session: AsyncSession, event: CloudEvent) -> None:
        # metrics-service's alerts and geo-service's approval and schedule notices reach people the way
        # realignment notices do: a delivery per registered webhook, written in the inbox's transaction, so none
        # is lost or sent twice.
        uow = UnitOfWork.in_session(session)
        async with uow:
            await queue_deliveries(uow, event.tenantid, event)
            await uow.commit()

    return {
        "geo.alignment.published.v1": on_alignment_published,
        "metrics.territory.out_of_balance_detected.v1": deliver,
        **dict.fromkeys(APPROVAL_EVENT_TYPES, deliver),
    }
