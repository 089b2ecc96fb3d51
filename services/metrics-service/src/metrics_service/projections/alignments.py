"""Layers, alignments and unit memberships, fed by ``geo.layer.*`` and ``geo.alignment.*`` events.

Events carry ids and small facts; a layer's units (attributes, geometry) and a new alignment's
memberships (a copy brings its source's) are read once from geo-service's HTTP API. Replaying the
topics from the start rebuilds the same state: memberships read at creation are then corrected by the
edits that follow, each of which sets a unit's territory (never adds or subtracts).

Alignment versions: geo-service bumps an alignment's version for changes that emit no event here (locks),
so a gap is normal; an event at or below the version already applied is stale and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import shapely
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from territory_shared.events.envelope import CloudEvent
from territory_shared.events.geo import (
    AlignmentArchivedV1,
    AlignmentCreatedV1,
    AlignmentDeletedV1,
    AlignmentEditedV1,
    AlignmentPublishedV1,
    LayerDeletedV1,
    LayerImportedV1,
)

from metrics_service.db.records import (
    AlignmentProjectionRecord,
    LayerProjectionRecord,
    MembershipRecord,
    UnitProjectionRecord,
)
from metrics_service.domain.sources import GeoUnavailable
from metrics_service.projections.territories import ProjectionGap
from metrics_service.use_cases.ports import GeoClient
from metrics_service.use_cases.quotas import record_activation

log = logging.getLogger(__name__)


async def ensure_layer(
    session: AsyncSession, geo: GeoClient, tenant_id: str, layer_id: str, meta: LayerImportedV1 | None = None
) -> None:
    """Project a layer's units once (attributes and lon/lat geometry, as geo-service serves them)."""
    if await session.get(LayerProjectionRecord, layer_id) is not None:
        return
    if meta is None:
        info = await geo.layer(tenant_id, layer_id)
        if info is None:
            raise GeoUnavailable(f"layer {layer_id} is not in geo-service")
        meta = LayerImportedV1(
            layer_id=layer_id,
            name=info["name"],
            kind=info["kind"],
            unit_count=info["unit_count"],
            attributes=info["attributes"],
        )
    units = await geo.layer_units(tenant_id, layer_id)
    session.add(
        LayerProjectionRecord(
            layer_id=layer_id,
            tenant_id=tenant_id,
            name=meta.name,
            kind=meta.kind,
            attributes=list(meta.attributes),
            unit_count=len(units),
        )
    )
    await session.flush()
    geoms = [shapely.geometry.shape(u.geometry) if u.geometry else shapely.Point() for u in units]
    wkbs: np.ndarray | list[bytes] = shapely.to_wkb(geoms) if geoms else []
    rows = [
        {"layer_id": layer_id, "unit_id": u.unit_id, "idx": i, "attributes": u.attributes, "wkb": w}
        for i, (u, w) in enumerate(zip(units, wkbs, strict=True))
    ]
    for start in range(0, len(rows), 2_000):
        await session.execute(insert(UnitProjectionRecord), rows[start : start + 2_000])


async def _alignment(session: AsyncSession, event: CloudEvent, alignment_id: str) -> AlignmentProjectionRecord:
    row = await session.get(AlignmentProjectionRecord, alignment_id)
    if row is None:
        raise ProjectionGap(f"{event.type} for alignment {alignment_id} arrived before its creation")
    return row


async def _set_memberships(
    session: AsyncSession, alignment_id: str, moves: Sequence[tuple[str, str | None]], revision: int
) -> None:
    by_target: dict[str | None, list[str]] = {}
    for unit_id, territory_id in moves:
        by_target.setdefault(territory_id, []).append(unit_id)
    for territory_id, unit_ids in by_target.items():
        for start in range(0, len(unit_ids), 2_000):
            await session.execute(
                update(MembershipRecord)
                .where(
                    MembershipRecord.alignment_id == alignment_id,
                    MembershipRecord.unit_id.in_(unit_ids[start : start + 2_000]),
                )
                .values(territory_id=territory_id, revision=revision)
                .execution_options(synchronize_session=False)
            )


async def _move_to_layer(session: AsyncSession, row: AlignmentProjectionRecord, layer_id: str) -> None:
    """The alignment now maps another layer's units (units split into finer ones): the rows of units that layer
    lacks go, its new units join as white space, and the edit's moves then give them their territory."""
    units = set(
        (
            await session.execute(select(UnitProjectionRecord.unit_id).where(UnitProjectionRecord.layer_id == layer_id))
        ).scalars()
    )
    held = set(
        (
            await session.execute(
                select(MembershipRecord.unit_id).where(MembershipRecord.alignment_id == row.alignment_id)
            )
        ).scalars()
    )
    gone, new = sorted(held - units), sorted(units - held)
    for start in range(0, len(gone), 2_000):
        await session.execute(
            delete(MembershipRecord)
            .where(
                MembershipRecord.alignment_id == row.alignment_id,
                MembershipRecord.unit_id.in_(gone[start : start + 2_000]),
            )
            .execution_options(synchronize_session=False)
        )
    rows = [
        {"alignment_id": row.alignment_id, "unit_id": u, "territory_id": None, "revision": row.revision} for u in new
    ]
    for start in range(0, len(rows), 2_000):
        await session.execute(insert(MembershipRecord), rows[start : start + 2_000])
    row.layer_id = layer_id


class GeoProjections:
    """The handlers of geo-service's layer and alignment events, with the geo-service client they need."""

    def __init__(self, geo: GeoClient) -> None:
        self.geo = geo

    async def on_layer_imported(self, session: AsyncSession, event: CloudEvent) -> None:
        data = LayerImportedV1.model_validate(event.data)
        await ensure_layer(session, self.geo, event.tenantid, data.layer_id, data)

    async def on_layer_deleted(self, session: AsyncSession, event: CloudEvent) -> None:
        """geo-service deletes only a layer no alignment uses: its units go too, nothing measures them any more."""
        data = LayerDeletedV1.model_validate(event.data)
        row = await session.get(LayerProjectionRecord, data.layer_id)
        if row is None or row.tenant_id != event.tenantid:
            return
        await session.execute(
            delete(UnitProjectionRecord)
            .where(UnitProjectionRecord.layer_id == data.layer_id)
            .execution_options(synchronize_session=False)
        )
        await session.delete(row)

    async def on_alignment_created(self, session: AsyncSession, event: CloudEvent) -> None:
        data = AlignmentCreatedV1.model_validate(event.data)
        if await session.get(AlignmentProjectionRecord, data.alignment_id) is not None:
            return
        units = await self.geo.alignment_units(event.tenantid, data.alignment_id)
        if units is None:  # deleted since (a replay): its deleted event follows, and its layer may be gone too
            units = {}
        else:
            await ensure_layer(session, self.geo, event.tenantid, data.layer_id)
        session.add(
            AlignmentProjectionRecord(
                alignment_id=data.alignment_id,
                tenant_id=event.tenantid,
                layer_id=data.layer_id,
                sales_force=data.sales_force,
                name=data.name,
                state=data.state,
                version=data.version,
                copied_from=data.copied_from,
                revision=1,
                deleted=False,
                published_at=None,
            )
        )
        await session.flush()
        rows = [
            {"alignment_id": data.alignment_id, "unit_id": u, "territory_id": t, "revision": 1}
            for u, t in units.items()
        ]
        for start in range(0, len(rows), 2_000):
            await session.execute(insert(MembershipRecord), rows[start : start + 2_000])

    async def on_alignment_edited(self, session: AsyncSession, event: CloudEvent) -> None:
        data = AlignmentEditedV1.model_validate(event.data)
        row = await _alignment(session, event, data.alignment_id)
        if row.deleted or data.version <= row.version:
            log.info("stale %s v%s for alignment %s ignored", event.type, data.version, data.alignment_id)
            return
        row.version = data.version
        row.revision += 1
        if data.layer_id is not None and data.layer_id != row.layer_id:
            await ensure_layer(session, self.geo, event.tenantid, data.layer_id)
            await _move_to_layer(session, row, data.layer_id)
        await _set_memberships(
            session, row.alignment_id, [(m.unit_id, m.to_territory_id) for m in data.moves], row.revision
        )

    async def on_alignment_published(
        self, session: AsyncSession, event: CloudEvent
    ) -> AlignmentProjectionRecord | None:
        """Returns the alignment when this event made it active (the first part of its publication)."""
        data = AlignmentPublishedV1.model_validate(event.data)
        row = await _alignment(session, event, data.alignment_id)
        if row.deleted or data.version < row.version or (data.version == row.version and row.state == "active"):
            return None
        row.state, row.version, row.published_at = "active", data.version, event.time
        row.revision += 1
        if data.previous_alignment_id:
            previous = await session.get(AlignmentProjectionRecord, data.previous_alignment_id)
            if previous is not None and previous.state == "active":
                previous.state = "archived"
        await record_activation(session, row, event.time)
        return row

    async def on_alignment_archived(self, session: AsyncSession, event: CloudEvent) -> None:
        data = AlignmentArchivedV1.model_validate(event.data)
        row = await _alignment(session, event, data.alignment_id)
        if data.version > row.version:
            row.state, row.version = "archived", data.version
            row.revision += 1

    async def on_alignment_deleted(self, session: AsyncSession, event: CloudEvent) -> None:
        data = AlignmentDeletedV1.model_validate(event.data)
        row = await session.get(AlignmentProjectionRecord, data.alignment_id)
        if row is None or row.deleted:
            return
        row.deleted = True
        row.revision += 1
        await session.execute(delete(MembershipRecord).where(MembershipRecord.alignment_id == data.alignment_id))
