from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from geo_service.db.records import (
    AdjacencyRecord,
    AlignmentRecord,
    LayerRecord,
    PayloadRecord,
    TileRecord,
    UnitRecord,
)

INSERT_BATCH = 2_000


class LayerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, tenant_id: str, layer_id: str) -> LayerRecord | None:
        record = await self._session.get(LayerRecord, layer_id)
        return record if record is not None and record.tenant_id == tenant_id else None

    async def by_id(self, layer_id: str) -> LayerRecord | None:
        """The layer whatever its tenant: for work the caller already checked the tenant for."""
        return await self._session.get(LayerRecord, layer_id)

    # Annotations after this method say `builtins.list`: in the class body `list` is this method.
    async def list(self, tenant_id: str) -> list[LayerRecord]:
        query = select(LayerRecord).where(LayerRecord.tenant_id == tenant_id).order_by(LayerRecord.created_at)
        return list((await self._session.execute(query)).scalars())

    async def add(self, layer: LayerRecord, units: Sequence[dict[str, Any]], edges: Sequence[dict[str, Any]]) -> None:
        self._session.add(layer)
        await self._session.flush()
        for start in range(0, len(units), INSERT_BATCH):
            await self._session.execute(insert(UnitRecord), list(units[start : start + INSERT_BATCH]))
        for start in range(0, len(edges), INSERT_BATCH):
            await self._session.execute(insert(AdjacencyRecord), list(edges[start : start + INSERT_BATCH]))

    async def unit_ids(self, layer_id: str) -> builtins.list[str]:
        query = select(UnitRecord.unit_id).where(UnitRecord.layer_id == layer_id).order_by(UnitRecord.idx)
        return list((await self._session.execute(query)).scalars())

    async def geometries(self, layer_id: str) -> builtins.list[tuple[str, bytes]]:
        query = select(UnitRecord.unit_id, UnitRecord.wkb).where(UnitRecord.layer_id == layer_id)
        return [(r.unit_id, r.wkb) for r in (await self._session.execute(query.order_by(UnitRecord.idx)))]

    async def unit_facts(self, layer_id: str) -> builtins.list[Any]:
        """Every unit's id, name, inner point, area and attributes in unit-id order, as plain rows (loading 30,000+
        records takes seconds)."""
        query = select(
            UnitRecord.unit_id,
            UnitRecord.name,
            UnitRecord.centroid_lon,
            UnitRecord.centroid_lat,
            UnitRecord.area_km2,
            UnitRecord.attributes,
        ).where(UnitRecord.layer_id == layer_id)
        return list((await self._session.execute(query.order_by(UnitRecord.idx))).all())

    async def units_page(
        self, layer_id: str, limit: int, offset: int, bbox: tuple[float, float, float, float] | None
    ) -> builtins.list[UnitRecord]:
        query = select(UnitRecord).where(UnitRecord.layer_id == layer_id)
        if bbox is not None:
            minx, miny, maxx, maxy = bbox
            query = query.where(
                UnitRecord.maxx >= minx, UnitRecord.minx <= maxx, UnitRecord.maxy >= miny, UnitRecord.miny <= maxy
            )
        return list((await self._session.execute(query.order_by(UnitRecord.idx).limit(limit).offset(offset))).scalars())

    async def adjacency(self, layer_id: str) -> builtins.list[AdjacencyRecord]:
        query = select(AdjacencyRecord).where(AdjacencyRecord.layer_id == layer_id)
        return list(
            (await self._session.execute(query.order_by(AdjacencyRecord.unit_a, AdjacencyRecord.unit_b))).scalars()
        )

    async def tile(self, layer_id: str, z: int, x: int, y: int) -> bytes | None:
        query = select(TileRecord.data).where(
            TileRecord.layer_id == layer_id, TileRecord.z == z, TileRecord.x == x, TileRecord.y == y
        )
        return (await self._session.execute(query)).scalar_one_or_none()

    async def store_tiles(self, layer_id: str, tiles: Sequence[tuple[int, int, int, bytes]], through_zoom: int) -> bool:
        """Store the layer's tiles through a zoom (replacing any stored) and mark them stored; False when the layer
        is gone (deleted meanwhile)."""
        marked = await self._session.execute(
            update(LayerRecord).where(LayerRecord.id == layer_id).values(tiles_zoom=through_zoom)
        )
        if marked.rowcount == 0:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            return False
        await self._session.execute(
            delete(TileRecord).where(TileRecord.layer_id == layer_id).execution_options(synchronize_session=False)
        )
        rows = [{"layer_id": layer_id, "z": z, "x": x, "y": y, "data": data} for z, x, y, data in tiles]
        for start in range(0, len(rows), INSERT_BATCH):
            await self._session.execute(insert(TileRecord), rows[start : start + INSERT_BATCH])
        return True

    async def needing_fill(self) -> builtins.list[LayerRecord]:
        """Every tenant's layers that lack a frame or stored tiles, the biggest first."""
        query = select(LayerRecord).where(or_(LayerRecord.frame.is_(None), LayerRecord.tiles_zoom.is_(None)))
        return list((await self._session.execute(query.order_by(LayerRecord.unit_count.desc()))).scalars())

    async def inner_points(self, layer_id: str) -> builtins.list[Any]:
        query = select(UnitRecord.centroid_lon, UnitRecord.centroid_lat).where(UnitRecord.layer_id == layer_id)
        return list((await self._session.execute(query)).all())

    async def set_frame(self, layer_id: str, frame: builtins.list[float] | None) -> None:
        await self._session.execute(update(LayerRecord).where(LayerRecord.id == layer_id).values(frame=frame))

    async def payload(self, layer_id: str, name: str) -> bytes | None:
        query = select(PayloadRecord.data).where(PayloadRecord.layer_id == layer_id, PayloadRecord.name == name)
        return (await self._session.execute(query)).scalar_one_or_none()

    async def store_payload(self, layer_id: str, name: str, data: bytes) -> None:
        self._session.add(PayloadRecord(layer_id=layer_id, name=name, data=data))

    async def adjacency_rows(self, layer_id: str) -> builtins.list[Any]:
        """unit_a, unit_b, kind, distance_km of every pair, as plain rows (loading 100,000+ records takes seconds)."""
        query = select(
            AdjacencyRecord.unit_a, AdjacencyRecord.unit_b, AdjacencyRecord.kind, AdjacencyRecord.distance_km
        ).where(AdjacencyRecord.layer_id == layer_id)
        return list((await self._session.execute(query.order_by(AdjacencyRecord.unit_a, AdjacencyRecord.unit_b))).all())

    async def count_units(self, layer_id: str) -> int:
        query = select(func.count()).select_from(UnitRecord).where(UnitRecord.layer_id == layer_id)
        return int((await self._session.execute(query)).scalar_one())

    async def alignments_using(self, layer_id: str) -> builtins.list[AlignmentRecord]:
        """Every alignment on the layer, whatever its state (each one keeps the layer from being deleted)."""
        query = select(AlignmentRecord).where(AlignmentRecord.layer_id == layer_id)
        return list((await self._session.execute(query.order_by(AlignmentRecord.created_at))).scalars())

    async def remove(self, layer: LayerRecord) -> None:
        """Delete the layer with its units, adjacency, tiles and payloads (the foreign keys cascade too; this does
        not rely on it)."""
        await self._session.execute(
            delete(AdjacencyRecord)
            .where(AdjacencyRecord.layer_id == layer.id)
            .execution_options(synchronize_session=False)
        )
        await self._session.execute(
            delete(UnitRecord).where(UnitRecord.layer_id == layer.id).execution_options(synchronize_session=False)
        )
        for table in (TileRecord, PayloadRecord):
            await self._session.execute(
                delete(table).where(table.layer_id == layer.id).execution_options(synchronize_session=False)
            )
        await self._session.delete(layer)
