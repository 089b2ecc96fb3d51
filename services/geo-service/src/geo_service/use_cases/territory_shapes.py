"""Keep territory shapes current: re-dissolve the territories an edit touched, and their ancestors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import shapely

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.shapes import dissolve, for_display
from geo_service.domain.territory import Territory
from geo_service.spatial_index import LayerIndex


async def refresh_shapes(uow: UnitOfWork, alignment_id: str, touched: Iterable[str | None], layer: LayerIndex) -> None:
    territories = {t.id: t for t in await uow.territories.in_alignment(alignment_id)}
    todo = _with_ancestors({t for t in touched if t is not None and t in territories}, territories)
    # Deepest first, so a parent is dissolved from its children's fresh shapes.
    for territory_id in sorted(todo, key=lambda t: -_depth(t, territories)):
        children = [t.id for t in territories.values() if t.parent_id == territory_id]
        if children:
            shapes = await uow.alignments.shapes(alignment_id)
            parts = [shapely.from_wkb(shapes[c].wkb) for c in children if c in shapes and shapes[c].wkb]
            count = sum(shapes[c].unit_count for c in children if c in shapes)
        else:
            units = await uow.alignments.units_of(alignment_id, territory_id)
            parts = [layer.geometries[layer.position[u]] for u in units if u in layer.position]
            count = len(parts)
        shape = await asyncio.to_thread(dissolve, parts)
        display = for_display(shape)
        await uow.alignments.put_shape(
            alignment_id,
            territory_id,
            shapely.to_wkb(shape) if shape is not None else None,
            shapely.to_wkb(display) if display is not None else None,
            count,
        )
        await uow.flush()


def _with_ancestors(ids: set[str], territories: dict[str, Territory]) -> set[str]:
    out = set(ids)
    for territory_id in ids:
        parent = territories[territory_id].parent_id
        while parent is not None and parent in territories and parent not in out:
            out.add(parent)
            parent = territories[parent].parent_id
    return out


def _depth(territory_id: str, territories: dict[str, Territory]) -> int:
    depth, parent = 0, territories[territory_id].parent_id
    while parent is not None and parent in territories:
        depth, parent = depth + 1, territories[parent].parent_id
    return depth
