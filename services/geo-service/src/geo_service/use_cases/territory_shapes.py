"""Keep territory shapes current: re-dissolve the territories an edit touched, and their ancestors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import shapely
from shapely.geometry.base import BaseGeometry

from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.shapes import dissolve, for_display
from geo_service.domain.territory import Territory
from geo_service.spatial_index import LayerIndex


async def refresh_shapes(uow: UnitOfWork, alignment_id: str, touched: Iterable[str | None], layer: LayerIndex) -> None:
    territories = {t.id: t for t in await uow.territories.in_alignment(alignment_id)}
    todo = _with_ancestors({t for t in touched if t is not None and t in territories}, territories)
    if not todo:
        return
    members: dict[str, list[int]] = {}
    for unit_id, (territory_id, _) in (await uow.alignments.memberships(alignment_id)).items():
        if territory_id in todo and unit_id in layer.position:
            members.setdefault(territory_id, []).append(layer.position[unit_id])
    children: dict[str, list[str]] = {}
    for t in territories.values():
        if t.parent_id is not None:
            children.setdefault(t.parent_id, []).append(t.id)
    stored = await uow.alignments.shapes(alignment_id)
    fresh: dict[str, tuple[BaseGeometry | None, int]] = {}

    def shape_of(territory_id: str) -> tuple[BaseGeometry | None, int]:
        if territory_id in fresh:
            return fresh[territory_id]
        record = stored.get(territory_id)
        if record is None or record.wkb is None:
            return None, record.unit_count if record else 0
        return shapely.from_wkb(record.wkb), record.unit_count

    # Deepest first, so a parent is dissolved from its children's fresh shapes.
    for territory_id in sorted(todo, key=lambda t: -_depth(t, territories)):
        if territory_id in children:
            parts = [shape_of(c) for c in children[territory_id]]
            geoms = [g for g, _ in parts if g is not None]
            count = sum(n for _, n in parts)
        else:
            geoms = list(layer.geometries[members.get(territory_id, [])])
            count = len(geoms)
        fresh[territory_id] = (await asyncio.to_thread(dissolve, geoms), count)
    for territory_id, (shape, count) in fresh.items():
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
