"""Vector tiles of the layers: cut once, stored, and kept in memory.

Layers never change after import, so a tile cut once is good until the layer is deleted (its id is never reused).
Every tile through ``STORED_ZOOM`` (a country at 3-5 up to a county at 9: the tiles that hold the most units and take
longest to cut) is cut once per layer and stored in the database, ``layer_tiles``: by the import itself for a big
layer, so that its first map finds every tile ready, and otherwise in the background the first time any tile of the
layer is asked for. Deeper tiles hold a few dozen units each and are cut on demand.

In memory: the unit shapes of the few layers last drawn (parsed once, with an R-tree to find a tile's units), the
encoded tiles least recently used first out past a byte budget, and a layer's other immutable responses (its units'
facts, its adjacency: ``layer_payloads``), stored the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
import shapely
from territory_shared.errors import Conflict

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.tiles import TileAddress, covered_tiles, cut, encode
from geo_service.layer_payloads import BUILDERS

log = logging.getLogger(__name__)

LAYERS_KEPT = 4
TILE_BYTES_KEPT = 96 * 1024 * 1024
# Tiles through this zoom are stored. The US ZIP areas (31,729 units): about 3,300 tiles, 14 MB, 7 s of CPU once.
STORED_ZOOM = 9
# Layers of more units than this have their tiles cut and stored by the import (maps draw them from tiles).
STORED_BY_IMPORT = 5_000
BLOBS_KEPT = 8

StoredTile = tuple[int, int, int, bytes]


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

    def zoom_tiles(self, z: int) -> list[StoredTile]:
        """Every tile of zoom ``z`` that holds a unit."""
        out = []
        for address in covered_tiles(shapely.bounds(self.geometries), z):
            data = self.tile(address)
            if data:
                out.append((address.z, address.x, address.y, data))
        return out


@dataclass(frozen=True)
class TiledLayer:
    """What serving a layer's tiles needs to know of it, kept per layer: a map asks for dozens of tiles at once."""

    id: str
    tenant_id: str
    tiles_zoom: int | None


class TileCache:
    """``sessions`` opens a unit of work outside any request: the background storing of a layer's tiles."""

    def __init__(
        self,
        sessions: Callable[[], UnitOfWork],
        layers_kept: int = LAYERS_KEPT,
        tile_bytes_kept: int = TILE_BYTES_KEPT,
    ) -> None:
        self._sessions = sessions
        self._layers: OrderedDict[str, LayerShapes] = OrderedDict()
        self._tiles: OrderedDict[tuple[str, int, int, int], bytes] = OrderedDict()
        self._bytes = 0
        self._layers_kept = layers_kept
        self._tile_bytes_kept = tile_bytes_kept
        self._load = asyncio.Lock()
        self._guard = threading.Lock()  # tiles are cut in worker threads
        self._storing: dict[str, asyncio.Task[bool]] = {}
        self._known: dict[str, TiledLayer] = {}
        self._blobs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        # Cutting is mostly Python holding the GIL: one cut at a time leaves the process's other requests (the
        # memberships, the territory list) their share instead of queueing them behind a dozen competing cuts
        self._cutting = asyncio.Semaphore(1)

    async def layer(self, uow: UnitOfWork, tenant_id: str, layer_id: str) -> TiledLayer | None:
        """The tenant's layer, None when it has no such layer. Read once (again while its tiles are not stored)."""
        known = self._known.get(layer_id)
        if known is None or known.tiles_zoom is None:
            async with uow:
                record = await uow.layers.by_id(layer_id)
            if record is None:
                return None
            known = self._known[layer_id] = TiledLayer(record.id, record.tenant_id, record.tiles_zoom)
        return known if known.tenant_id == tenant_id else None

    async def tile(self, uow: UnitOfWork, layer: TiledLayer, address: TileAddress) -> bytes:
        """The encoded tile (b"": no unit reaches it). The caller has checked that the tenant owns the layer."""
        cached = self._held(layer.id, address)
        if cached is not None:
            return cached
        if layer.tiles_zoom is not None and address.z <= layer.tiles_zoom:
            async with uow:
                data = await uow.layers.tile(layer.id, address.z, address.x, address.y) or b""
            self._keep(layer.id, address, data)
            return data
        shapes = await self._shapes(uow, layer.id)
        if layer.tiles_zoom is None:
            self.store_later(layer.id)
        async with self._cutting:
            return await asyncio.to_thread(self._cut, layer.id, shapes, address)

    def _held(self, layer_id: str, address: TileAddress) -> bytes | None:
        key = (layer_id, address.z, address.x, address.y)
        with self._guard:
            cached = self._tiles.get(key)
            if cached is not None:
                self._tiles.move_to_end(key)
            return cached

    def _keep(self, layer_id: str, address: TileAddress, data: bytes) -> None:
        key = (layer_id, address.z, address.x, address.y)
        with self._guard:
            if key not in self._tiles:
                self._tiles[key] = data
                self._bytes += len(data) + 64
            while self._bytes > self._tile_bytes_kept and self._tiles:
                _, old = self._tiles.popitem(last=False)
                self._bytes -= len(old) + 64

    def _cut(self, layer_id: str, shapes: LayerShapes, address: TileAddress) -> bytes:
        # A tile asked for while the background storing is cutting it is cut twice at worst: both give the same bytes.
        cached = self._held(layer_id, address)
        if cached is not None:
            return cached
        data = shapes.tile(address)
        if layer_id in self._layers:
            self._keep(layer_id, address, data)
        return data

    async def store(self, layer_id: str, progress: Callable[[int], Awaitable[None]] | None = None) -> bool:
        """Cut every tile of the layer through STORED_ZOOM and store them (joining a storing already under way);
        ``progress`` hears each zoom done. False when the layer is gone."""
        task = self._storing.get(layer_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._store(layer_id, progress))
            self._storing[layer_id] = task
            task.add_done_callback(lambda t: self._storing.pop(layer_id) if self._storing.get(layer_id) is t else None)
        return await asyncio.shield(task)

    @staticmethod
    def drawn_from_tiles(kind: str, unit_count: int) -> bool:
        """Whether a map draws the layer from tiles, so that it is worth preparing before anyone opens it."""
        return kind == "polygon" and unit_count > STORED_BY_IMPORT

    async def prepare(self, layer_id: str, progress: Callable[[int], Awaitable[None]] | None = None) -> None:
        """Everything a map of the layer reads, ready before its first map: its stored tiles (``progress`` hears
        each zoom done), then every unit's facts and the adjacency."""
        await self.store(layer_id, progress)
        for payload in BUILDERS:
            await self.payload(layer_id, payload)

    def store_later(self, layer_id: str) -> None:
        """Store the layer's tiles in the background; a failure leaves them cut on demand, as before."""
        if layer_id in self._storing:
            return

        async def run() -> None:
            try:
                await self.store(layer_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("storing the tiles of layer %s failed; they are cut on demand", layer_id)

        asyncio.get_running_loop().create_task(run())

    async def _store(self, layer_id: str, progress: Callable[[int], Awaitable[None]] | None) -> bool:
        shapes = await self._shapes(self._sessions(), layer_id)
        tiles: list[StoredTile] = []
        for z in range(STORED_ZOOM + 1):
            # One zoom at a time, each a short turn of the cutter: a map's own tiles are cut between them.
            async with self._cutting:
                tiles += await asyncio.to_thread(shapes.zoom_tiles, z)
            if progress is not None:
                await progress(z)
        uow = self._sessions()
        async with uow:
            stored = await uow.layers.store_tiles(layer_id, tiles, STORED_ZOOM)
            await uow.commit()
        if stored:
            self._known.pop(layer_id, None)  # read again: its tiles are stored now
            for z, x, y, data in tiles:  # the tiles a map opens on, ready in memory too
                self._keep(layer_id, TileAddress(z, x, y), data)
        return stored

    async def stored(self, layer_id: str) -> None:
        """Wait for the layer's background storing, if one is running (for tests and benchmarks)."""
        task = self._storing.get(layer_id)
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    async def payload(self, layer_id: str, name: str) -> bytes:
        """A response about the whole layer (layer_payloads.BUILDERS), from memory, else as stored, else built once
        and stored. The caller has checked that the tenant owns the layer."""
        key = (layer_id, name)
        held = self._blobs.get(key)
        if held is None:
            async with self._sessions() as uow:
                held = await uow.layers.payload(layer_id, name)
            if held is None:
                held = await BUILDERS[name](self._sessions(), layer_id)
                with contextlib.suppress(Conflict):  # built and stored meanwhile by another process: the same
                    async with self._sessions() as uow:
                        await uow.layers.store_payload(layer_id, name, held)
                        await uow.commit()
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
        self._layers.move_to_end(layer_id)
        return shapes

    def close(self) -> None:
        """Stop every storing under way (the service is stopping): the layers' tiles stay cut on demand."""
        for task in self._storing.values():
            task.cancel()

    def forget_layer(self, layer_id: str) -> None:
        """Drop everything kept of the layer (it was deleted): shapes, tiles, payloads; stop storing its tiles."""
        self._layers.pop(layer_id, None)
        self._known.pop(layer_id, None)
        task = self._storing.pop(layer_id, None)
        if task is not None:
            task.cancel()
        for blob in [k for k in self._blobs if k[0] == layer_id]:
            del self._blobs[blob]
        with self._guard:
            for tile in [k for k in self._tiles if k[0] == layer_id]:
                self._bytes -= len(self._tiles.pop(tile)) + 64
