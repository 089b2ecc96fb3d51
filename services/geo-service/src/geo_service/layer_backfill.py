"""Layers stored before their map frame, tiles and unit facts were kept at import get them after the service starts,
in the background: the first map of such a layer would otherwise wait for its tiles to be cut (12 s for the ZIP
areas).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.framing import main_cluster_frame
from geo_service.tile_cache import TileCache

log = logging.getLogger(__name__)


async def fill_in_layers(sessions: Callable[[], UnitOfWork], tiles: TileCache) -> None:
    """Each layer without a frame gets one; each big polygon layer without stored tiles gets them (biggest first).

    A failure is logged and leaves the layer as it was: the map frames it from its units and cuts its tiles on demand.
    """
    async with sessions() as uow:
        layers = await uow.layers.needing_fill()
    for layer in layers:
        try:
            if layer.frame is None:
                async with sessions() as uow:
                    points = await uow.layers.inner_points(layer.id)
                    frame = main_cluster_frame(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
                    await uow.layers.set_frame(layer.id, frame)
                    await uow.commit()
            if layer.tiles_zoom is None and tiles.drawn_from_tiles(layer.kind, layer.unit_count):
                await tiles.prepare(layer.id)  # what the import of such a layer prepares now
        except Exception:
            log.exception("filling in layer %s failed; its map is framed and cut on demand", layer.id)
