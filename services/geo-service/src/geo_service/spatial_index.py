"""In-memory spatial indexes for location lookup, one per layer, plus each alignment's unit -> territory map.

The index is a cell grid (see ``CellGrid``) rather than an R-tree query per point: building a Shapely
point per query point alone costs more than answering from the grid.

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

# A grid of at most this many cells per layer (int32 arrays: a few tens of MB at most).
MAX_CELLS = 4_000_000


@dataclass
class CellGrid:
    """A uniform grid over the layer: each cell knows the unit that holds it entirely (when one does) and
    the units whose bounding box reaches it. Most points land in such a "pure" cell and are answered with
    array lookups alone; only points in cells crossed by a border are tested against the unit shapes.
    """

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    pure: np.ndarray  # unit position holding the whole cell, -1 when borders cross it
    offsets: np.ndarray  # CSR: candidates of cell c are candidates[offsets[c]:offsets[c + 1]]
    candidates: np.ndarray

    @classmethod
    def build(cls, geometries: np.ndarray) -> CellGrid:
        bounds = shapely.bounds(geometries)
        x0, y0 = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        width = max(float(bounds[:, 2].max()) - x0, 1e-9)
        height = max(float(bounds[:, 3].max()) - y0, 1e-9)
        sizes = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        cell = max(float(np.median(sizes)) / 8.0, np.sqrt(width * height / MAX_CELLS), 1e-6)
        nx, ny = int(width // cell) + 1, int(height // cell) + 1
        ix0 = np.clip(((bounds[:, 0] - x0) // cell).astype(np.int64), 0, nx - 1)
        ix1 = np.clip(((bounds[:, 2] - x0) // cell).astype(np.int64), 0, nx - 1)
        iy0 = np.clip(((bounds[:, 1] - y0) // cell).astype(np.int64), 0, ny - 1)
        iy1 = np.clip(((bounds[:, 3] - y0) // cell).astype(np.int64), 0, ny - 1)
        spans = ix1 - ix0 + 1
        counts = spans * (iy1 - iy0 + 1)
        unit = np.repeat(np.arange(len(geometries)), counts)
        local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        cx = ix0[unit] + local % spans[unit]
        cy = iy0[unit] + local // spans[unit]
        cell_id = cy * nx + cx
        boxes = shapely.box(x0 + cx * cell, y0 + cy * cell, x0 + (cx + 1) * cell, y0 + (cy + 1) * cell)
        # contains_properly: the closed cell lies in the unit's interior, so no border point is in it.
        inside = shapely.contains_properly(geometries[unit], boxes)
        pure = np.full(nx * ny, -1, dtype=np.int64)
        pure[cell_id[inside]] = unit[inside]
        # Where units overlap, another unit may reach into a cell that one holds entirely: that cell is
        # not pure (its points need the exact test and the smallest-id rule).
        others = np.flatnonzero((pure[cell_id] >= 0) & (pure[cell_id] != unit))
        if len(others):
            reaching = others[shapely.intersects(geometries[unit[others]], boxes[others])]
            pure[cell_id[reaching]] = -1
        order = np.argsort(cell_id, kind="stable")
        offsets = np.zeros(nx * ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell_id, minlength=nx * ny), out=offsets[1:])
        return cls(x0, y0, cell, nx, ny, pure.astype(np.int32), offsets, unit[order].astype(np.int32))

    def cells(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cx = np.floor((lon - self.x0) / self.cell).astype(np.int64)
        cy = np.floor((lat - self.y0) / self.cell).astype(np.int64)
        valid = (cx >= 0) & (cx < self.nx) & (cy >= 0) & (cy < self.ny)
        return np.where(valid, cy * self.nx + cx, 0), valid


@dataclass
class LayerIndex:
    layer_id: str
    unit_ids: np.ndarray  # str, in idx order (sorted by unit id)
    geometries: np.ndarray
    grid: CellGrid
    position: dict[str, int]

    @classmethod
    def build(cls, layer_id: str, rows: list[tuple[str, bytes]]) -> LayerIndex:
        unit_ids = np.array([u for u, _ in rows], dtype=object)
        geometries = shapely.from_wkb(np.array([w for _, w in rows], dtype=object))
        shapely.prepare(geometries)
        grid = CellGrid.build(geometries)
        return cls(layer_id, unit_ids, geometries, grid, {u: i for i, u in enumerate(unit_ids)})

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Unit position of each point, -1 outside every unit.

        A point on a shared border belongs to the unit with the smallest id, so the answer never
        depends on the order of the index.
        """
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        cell, valid = self.grid.cells(lon, lat)
        result = np.where(valid, self.grid.pure[cell], -1).astype(np.int64)
        todo = np.flatnonzero(valid & (result < 0))
        if len(todo) == 0:
            return result
        starts, ends = self.grid.offsets[cell[todo]], self.grid.offsets[cell[todo] + 1]
        counts = ends - starts
        point = np.repeat(todo, counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        unit = self.grid.candidates[np.repeat(starts, counts) + within]
        hit = shapely.intersects_xy(self.geometries[unit], lon[point], lat[point])
        best = np.full(len(lon), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, point[hit], unit[hit])
        found = best[todo]
        result[todo] = np.where(found == np.iinfo(np.int64).max, -1, found)
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
