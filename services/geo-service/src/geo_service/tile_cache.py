"""Vector tiles of the layers, cut on demand and kept: layers never change after import, so a tile cut once is
good until the layer is deleted (its id is never reused).

Two bounded caches: the unit shapes of the few layers last drawn (parsed once, with an R-tree to find a tile's
units), and the encoded tiles themselves, least recently used first out past a byte budget.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import shapely

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.tiles import TileAddress, cut, encode

LAYERS_KEPT = 4
TILE_BYTES_KEPT = 96 * 1024 * 1024


@dataclass
class LayerShapes:
    unit_ids: list[str]
    geometries: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def build(cls, rows: list[tuple[str, bytes]]) -> LayerShapes:
        geometries = shapely.from_wkb(np.array([w for _, w in rows], dtype=object))
        return cls([u for u, _ in rows], geometries, shapely.STRtree(geometries))

    def tile(self, address: TileAddress) -> bytes:
        found = np.sort(self.tree.query(shapely.box(*address.lonlat_bounds())))
        if len(found) == 0:
            return b""
        return encode([self.unit_ids[i] for i in found], cut(self.geometries[found], address))


class TileCache:
    def __init__(self, layers_kept: int = LAYERS_KEPT, tile_bytes_kept: int = TILE_BYTES_KEPT) -> None:
        self._layers: OrderedDict[str, LayerShapes] = OrderedDict()
        self._tiles: OrderedDict[tuple[str, int, int, int], bytes] = OrderedDict()
        self._bytes = 0
        self._layers_kept = layers_kept
        self._tile_bytes_kept = tile_bytes_kept
        self._load = asyncio.Lock()
        self._guard = threading.Lock()  # tiles are cut in worker threads

    async def tile(self, uow: UnitOfWork, layer_id: str, address: TileAddress) -> bytes:
        """The encoded tile (b"": no unit reaches it). The caller has checked that the tenant owns the layer."""
        key = (layer_id, address.z, address.x, address.y)
        with self._guard:
            cached = self._tiles.get(key)
            if cached is not None:
                self._tiles.move_to_end(key)
                return cached
        shapes = await self._shapes(uow, layer_id)
        data = await asyncio.to_thread(shapes.tile, address)
        with self._guard:
            if key not in self._tiles:
                self._tiles[key] = data
                self._bytes += len(data) + 64
            while self._bytes > self._tile_bytes_kept and self._tiles:
                _, old = self._tiles.popitem(last=False)
                self._bytes -= len(old) + 64
        return data

    async def _shapes(self, uow: UnitOfWork, layer_id: str) -> LayerShapes:
        shapes = self._layers.get(layer_id)
        if shapes is None:
            async with self._load:
                shapes = self._layers.get(layer_id)
                if shapes is None:
                    async with uow:
                        rows = await uow.layers.geometries(layer_id)
                    shapes = await asyncio.to_thread(LayerShapes.build, rows)
                    self._layers[layer_id] = shapes
                    while len(self._layers) > self._layers_kept:
                        self._layers.popitem(last=False)
        self._layers.move_to_end(layer_id)
        return shapes

    def forget_layer(self, layer_id: str) -> None:
        self._layers.pop(layer_id, None)
        with self._guard:
            for key in [k for k in self._tiles if k[0] == layer_id]:
                self._bytes -= len(self._tiles.pop(key)) + 64
