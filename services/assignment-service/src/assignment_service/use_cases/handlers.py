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


def make_handlers(geo: GeoClient) -> Mapping[str, Handler]:
    async def on_alignment_published(session: AsyncSession, event: CloudEvent) -> None:
        data = AlignmentPublishedV1.model_validate(event.data)
        await apply_published_alignment(UnitOfWork.in_session(session), geo, event.tenantid, data)

    return {"geo.alignment.published.v1": on_alignment_published}
