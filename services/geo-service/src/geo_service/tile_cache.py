"""Vector tiles of the layers, cut on demand and kept: layers never change after import, so a tile cut once is
good until the layer is deleted (its id is never reused).

Two bounded caches: the unit shapes of the few layers last drawn (parsed once, with an R-tree to find a tile's
units), and the encoded tiles themselves, least recently used first out past a byte budget. When a layer's shapes
are first loaded, its low-zoom tiles (the ones that hold the most units and take longest to cut) are cut in the
background, broadest first, so that the first map of a big layer finds them ready. The cache also keeps a layer's
other immutable payloads (its adjacency, serialised once).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
import shapely

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.tiles import TileAddress, cut, encode

LAYERS_KEPT = 4
TILE_BYTES_KEPT = 96 * 1024 * 1024
# Zooms cut ahead of any request once a layer is loaded: a country's map opens at 3-5 and these tiles hold the
# most units each (a zoom-3 tile of the US ZIP areas: ~13,000).
WARM_ZOOMS = (3, 4, 5)
BLOBS_KEPT = 8


@dataclass
class LayerShapes:
    unit_ids: list[str]
    geometries: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def build(cls, rows: list[tuple[str, bytes]]) -> LayerShapes:
        geometries = shapely.from_wkb(np.array([w for _, w in rows], dtype=object))
        return cls([u for u, _ in rows], geometries, shapely.STRtree(geometries))

    def bounds(self) -> tuple[float, float, float, float]:
        """The layer's lon/lat bbox: west, south, east, north."""
        west, south, east, north = shapely.total_bounds(self.geometries)
        return float(west), float(south), float(east), float(north)

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
        self._warming: dict[str, asyncio.Task[None]] = {}
        self._blobs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        # Cutting is mostly Python holding the GIL: one cut at a time leaves the process's other requests (the
        # memberships, the territory list) their share instead of queueing them behind a dozen competing cuts
        self._cutting = asyncio.Semaphore(1)

    async def tile(self, uow: UnitOfWork, layer_id: str, address: TileAddress) -> bytes:
        """The encoded tile (b"": no unit reaches it). The caller has checked that the tenant owns the layer."""
        cached = self._held(layer_id, address)
        if cached is not None:
            return cached
        shapes = await self._shapes(uow, layer_id)
        async with self._cutting:
            return await asyncio.to_thread(self._cut, layer_id, shapes, address)

    def _held(self, layer_id: str, address: TileAddress) -> bytes | None:
        key = (layer_id, address.z, address.x, address.y)
        with self._guard:
            cached = self._tiles.get(key)
            if cached is not None:
                self._tiles.move_to_end(key)
            return cached

    def _cut(self, layer_id: str, shapes: LayerShapes, address: TileAddress) -> bytes:
        # A tile asked for while the warm-up is cutting it is cut twice at worst: both give the same bytes.
        cached = self._held(layer_id, address)
        if cached is not None:
            return cached
        data = shapes.tile(address)
        key = (layer_id, address.z, address.x, address.y)
        with self._guard:
            if layer_id in self._layers and key not in self._tiles:
                self._tiles[key] = data
                self._bytes += len(data) + 64
            while self._bytes > self._tile_bytes_kept and self._tiles:
                _, old = self._tiles.popitem(last=False)
                self._bytes -= len(old) + 64
        return data

    def _warm_up(self, layer_id: str, shapes: LayerShapes) -> None:
        """Cut the layer's low-zoom tiles in the background, broadest first (a request cuts its own tile meanwhile)."""

        async def run() -> None:
            for address in warm_tiles(shapes.bounds()):
                if layer_id not in self._layers:
                    return  # forgotten (deleted) or pushed out by other layers
                async with self._cutting:
                    await asyncio.to_thread(self._cut, layer_id, shapes, address)

        task = asyncio.get_running_loop().create_task(run())
        self._warming[layer_id] = task
        task.add_done_callback(lambda t: self._warming.pop(layer_id) if self._warming.get(layer_id) is t else None)

    async def warmed(self, layer_id: str) -> None:
        """Wait for the layer's warm-up, if one is running (for tests and benchmarks)."""
        task = self._warming.get(layer_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def blob(self, layer_id: str, name: str, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """A payload of the layer that never changes once imported (its adjacency), built once and kept."""
        key = (layer_id, name)
        held = self._blobs.get(key)
        if held is None:
            held = await build()
            self._blobs[key] = held
            while len(self._blobs) > BLOBS_KEPT:
                self._blobs.popitem(last=False)
        self._blobs.move_to_end(key)
        return held

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
                    self._warm_up(layer_id, shapes)
        self._layers.move_to_end(layer_id)
        return shapes

    def forget_layer(self, layer_id: str) -> None:
        """Drop everything kept of the layer (it was deleted): shapes, tiles, payloads; stop its warm-up."""
        self._layers.pop(layer_id, None)
        task = self._warming.pop(layer_id, None)
        if task is not None:
            task.cancel()
        for blob in [k for k in self._blobs if k[0] == layer_id]:
            del self._blobs[blob]
        with self._guard:
            for tile in [k for k in self._tiles if k[0] == layer_id]:
                self._bytes -= len(self._tiles.pop(tile)) + 64


def warm_tiles(bounds: tuple[float, float, float, float]) -> list[TileAddress]:
    """The tiles of WARM_ZOOMS over a lon/lat bbox, lowest zoom first."""
    west, south, east, north = bounds
    out = []
    for z in WARM_ZOOMS:
        x0, y0 = _tile_of(west, north, z)
        x1, y1 = _tile_of(east, south, z)
        out += [TileAddress(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    side = 1 << z
    lat = max(-85.0511287798, min(85.0511287798, lat))
    x = int((lon + 180.0) / 360.0 * side)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * side)
    return min(max(x, 0), side - 1), min(max(y, 0), side - 1)
