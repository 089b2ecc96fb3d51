from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo_service.db.records import AdjacencyRecord, AlignmentRecord, LayerRecord, UnitRecord

INSERT_BATCH = 2_000


class LayerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, tenant_id: str, layer_id: str) -> LayerRecord | None:
        record = await self._session.get(LayerRecord, layer_id)
        return record if record is not None and record.tenant_id == tenant_id else None

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

    async def count_units(self, layer_id: str) -> int:
        query = select(func.count()).select_from(UnitRecord).where(UnitRecord.layer_id == layer_id)
        return int((await self._session.execute(query)).scalar_one())

    async def alignments_using(self, layer_id: str) -> builtins.list[AlignmentRecord]:
        """Every alignment on the layer, whatever its state (each one keeps the layer from being deleted)."""
        query = select(AlignmentRecord).where(AlignmentRecord.layer_id == layer_id)
        return list((await self._session.execute(query.order_by(AlignmentRecord.created_at))).scalars())

    async def remove(self, layer: LayerRecord) -> None:
        """Delete the layer with its units and adjacency (the foreign keys cascade too; this does not rely on it)."""
        await self._session.execute(
            delete(AdjacencyRecord)
            .where(AdjacencyRecord.layer_id == layer.id)
            .execution_options(synchronize_session=False)
        )
        await self._session.execute(
            delete(UnitRecord).where(UnitRecord.layer_id == layer.id).execution_options(synchronize_session=False)
        )
        await self._session.delete(layer)
