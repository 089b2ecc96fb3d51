"""Points -> unit -> territory, from the in-memory index, in the active alignment of a sales force or a given one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from territory_shared.errors import BadRequest, NotFound

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.alignment import Alignment
from geo_service.spatial_index import IndexCache

# Below this many points the lookup runs on the event loop: a thread hop would cost more than it saves.
THREAD_THRESHOLD = 5_000


@dataclass
class Located:
    alignment: Alignment
    unit_ids: list[str | None]
    territory_ids: list[str | None]
    territory_codes: list[str | None]


async def locate_points(
    uow: UnitOfWork,
    cache: IndexCache,
    tenant_id: str,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    sales_force: str | None,
    alignment_id: str | None,
) -> Located:
    bad = np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90))
    if len(bad):
        raise BadRequest(
            f"{len(bad)} point(s) are not lon/lat in range (longitude -180..180, latitude -90..90).",
            field="points",
            indexes=bad[:100].tolist(),
        )
    async with uow:
        if alignment_id is not None:
            alignment = await uow.alignments.get(tenant_id, alignment_id)
            if alignment is None:
                raise NotFound(f"Alignment {alignment_id} does not exist.", field="alignment_id")
        elif sales_force is not None:
            alignment = await uow.alignments.active(tenant_id, sales_force)
            if alignment is None:
                raise NotFound(f"Sales force {sales_force!r} has no active alignment.", field="sales_force")
        else:
            raise BadRequest("give sales_force (its active alignment) or alignment_id", field="sales_force")
        layer = await cache.layer(uow, alignment.layer_id)
        mapping = await cache.alignment(uow, alignment.id, alignment.version, layer)
    if len(lon) >= THREAD_THRESHOLD:
        positions = await asyncio.to_thread(layer.locate, lon, lat)
    else:
        positions = layer.locate(lon, lat)
    inside = positions >= 0
    territory_pos = np.where(inside, mapping.territory_of_unit[np.where(inside, positions, 0)], -1)
    unit_ids = [layer.unit_ids[p] if p >= 0 else None for p in positions.tolist()]
    t_ids = [mapping.territory_ids[t] if t >= 0 else None for t in territory_pos.tolist()]
    t_codes = [mapping.territory_codes[t] if t >= 0 else None for t in territory_pos.tolist()]
    return Located(alignment, unit_ids, t_ids, t_codes)
