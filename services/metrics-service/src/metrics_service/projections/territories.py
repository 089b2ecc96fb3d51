"""The territory projection, fed by ``geo.territory.*`` events.

Events of one territory arrive in order (same key, same partition); the version each carries lets
the projection ignore a stale one and refuse one that skips ahead, which would mean a lost event.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.events.envelope import CloudEvent
from territory_shared.events.geo import TerritoryCreatedV1, TerritoryDeletedV1, TerritoryRenamedV1

from metrics_service.db.records import AlignmentProjectionRecord, TerritoryProjectionRecord

log = logging.getLogger(__name__)


class ProjectionGap(Exception):
    """An event arrived before one it depends on: retrying may help, else it is dead-lettered."""


async def on_territory_created(session: AsyncSession, event: CloudEvent) -> None:
    data = TerritoryCreatedV1.model_validate(event.data)
    existing = await session.get(TerritoryProjectionRecord, data.territory_id)
    if existing is not None:
        log.info("territory %s already projected at version %s", data.territory_id, existing.version)
        return
    session.add(
        TerritoryProjectionRecord(
            territory_id=data.territory_id,
            tenant_id=event.tenantid,
            code=data.code,
            name=data.name,
            version=data.version,
            deleted=False,
            events_applied=1,
            alignment_id=data.alignment_id,
            parent_id=data.parent_id,
        )
    )
    await bump_alignment(session, data.alignment_id)


async def on_territory_renamed(session: AsyncSession, event: CloudEvent) -> None:
    data = TerritoryRenamedV1.model_validate(event.data)
    row = await _current(session, event, data.territory_id, data.version)
    if row is not None:
        row.code, row.name, row.version = data.code, data.name, data.version
        row.alignment_id, row.parent_id = data.alignment_id, data.parent_id
        row.events_applied += 1
        await bump_alignment(session, row.alignment_id)


async def on_territory_deleted(session: AsyncSession, event: CloudEvent) -> None:
    data = TerritoryDeletedV1.model_validate(event.data)
    row = await _current(session, event, data.territory_id, data.version)
    if row is not None:
        row.deleted, row.version = True, data.version
        row.events_applied += 1
        await bump_alignment(session, row.alignment_id)


async def bump_alignment(session: AsyncSession, alignment_id: str | None) -> None:
    """A territory of the alignment changed: cached models of it re-read its territories."""
    if alignment_id is None:
        return
    row = await session.get(AlignmentProjectionRecord, alignment_id)
    if row is not None:
        row.revision += 1


async def _current(
    session: AsyncSession, event: CloudEvent, territory_id: str, version: int
) -> TerritoryProjectionRecord | None:
    """The row the event applies to; None for a stale event; ProjectionGap when one is missing."""
    row = await session.get(TerritoryProjectionRecord, territory_id)
    if row is None or row.version < version - 1:
        raise ProjectionGap(
            f"{event.type} v{version} for territory {territory_id} arrived before version {version - 1}"
        )
    if row.version >= version:
        log.info("stale %s v%s for territory %s ignored", event.type, version, territory_id)
        return None
    return row


async def territory_count(session: AsyncSession, tenant_id: str) -> int:
    query = select(func.count()).where(
        TerritoryProjectionRecord.tenant_id == tenant_id, TerritoryProjectionRecord.deleted.is_(False)
    )
    return int((await session.execute(query)).scalar_one())
