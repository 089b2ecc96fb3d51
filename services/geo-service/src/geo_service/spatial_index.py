"""In-memory spatial indexes for location lookup, one per layer, plus each alignment's unit -> territory map.

Layers never change after import, so a layer's index is built once per process. An alignment's map
is keyed by its version: a request always reads the alignment's current version from the database,
so every API replica answers from the current map (rebuilt on the first lookup after an edit), with
no window in which a stale one could be served.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
import shapely

from geo_service.db.unit_of_work import UnitOfWork


@dataclass
class LayerIndex:
    layer_id: str
    unit_ids: np.ndarray  # str, in idx order (sorted by unit id)
    geometries: np.ndarray
    tree: shapely.STRtree
    position: dict[str, int]

    @classmethod
    def build(cls, layer_id: str, rows: list[tuple[str, bytes]]) -> LayerIndex:
        unit_ids = np.array([u for u, _ in rows], dtype=object)
        geometries = shapely.from_wkb(np.array([w for _, w in rows], dtype=object))
        shapely.prepare(geometries)
        return cls(layer_id, unit_ids, geometries, shapely.STRtree(geometries), {u: i for i, u in enumerate(unit_ids)})

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Unit position of each point, -1 outside every unit.

        A point on a shared border belongs to the unit with the smallest id, so the answer never
        depends on the order of the index.
        """
        points = shapely.points(lon, lat)
        point_idx, unit_idx = self.tree.query(points)  # bounding boxes: candidates only
        if len(point_idx):
            hit = shapely.intersects_xy(self.geometries[unit_idx], lon[point_idx], lat[point_idx])
            point_idx, unit_idx = point_idx[hit], unit_idx[hit]
        result = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(result, point_idx, unit_idx)
        result[result == np.iinfo(np.int64).max] = -1
        return result


@dataclass
class AlignmentMap:
    alignment_id: str
    version: int
    territory_of_unit: np.ndarray  # position in territory_ids, -1 white space
    territory_ids: list[str]
    territory_codes: list[str]


class IndexCache:
    def __init__(self) -> None:
        self._layers: dict[str, LayerIndex] = {}
        self._alignments: dict[str, AlignmentMap] = {}
        self._lock = asyncio.Lock()

    async def layer(self, uow: UnitOfWork, layer_id: str) -> LayerIndex:
        index = self._layers.get(layer_id)
        if index is None:
            async with self._lock:
                index = self._layers.get(layer_id)
                if index is None:
                    rows = await uow.layers.geometries(layer_id)
                    index = await asyncio.to_thread(LayerIndex.build, layer_id, rows)
                    self._layers[layer_id] = index
        return index

    async def alignment(self, uow: UnitOfWork, alignment_id: str, version: int, layer: LayerIndex) -> AlignmentMap:
        current = self._alignments.get(alignment_id)
        if current is not None and current.version == version:
            return current
        memberships = await uow.alignments.memberships(alignment_id)
        territories = await uow.territories.in_alignment(alignment_id)
        position = {t.id: i for i, t in enumerate(territories)}
        of_unit = np.full(len(layer.unit_ids), -1, dtype=np.int64)
        for unit_id, (territory_id, _) in memberships.items():
            if territory_id is not None and unit_id in layer.position:
                of_unit[layer.position[unit_id]] = position[territory_id]
        mapped = AlignmentMap(
            alignment_id, version, of_unit, [t.id for t in territories], [t.code for t in territories]
        )
        self._alignments[alignment_id] = mapped
        return mapped

    def forget_layer(self, layer_id: str) -> None:
        self._layers.pop(layer_id, None)
