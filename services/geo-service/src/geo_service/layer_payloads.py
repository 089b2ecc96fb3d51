"""Responses about a whole layer that never change once it is imported: every unit's facts in columns, and its
adjacency. A map of ZIP areas opens on both (31,729 units, 100,000+ pairs): building either takes about a second,
so each is built once (by the import of a big layer, else on first request), stored in ``layer_payloads`` and
served as stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from geo_service.db.unit_of_work import UnitOfWork

UNIT_FACTS = "unit-facts"
ADJACENCY = "adjacency"


def compact_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


async def unit_facts(uow: UnitOfWork, layer_id: str) -> bytes:
    async with uow:
        layer = await uow.layers.by_id(layer_id)
        attributes = list(layer.attributes) if layer is not None else []
        rows = await uow.layers.unit_facts(layer_id)
    body = {
        "layer_id": layer_id,
        "unit_ids": [r.unit_id for r in rows],
        "names": [r.name for r in rows],
        "lon": [r.centroid_lon for r in rows],
        "lat": [r.centroid_lat for r in rows],
        "area_km2": [r.area_km2 for r in rows],
        "attributes": {a: [r.attributes.get(a) for r in rows] for a in attributes},
    }
    return await asyncio.to_thread(compact_json, body)


async def adjacency(uow: UnitOfWork, layer_id: str) -> bytes:
    async with uow:
        rows = await uow.layers.adjacency_rows(layer_id)
    body = {
        "layer_id": layer_id,
        "edges": [(r.unit_a, r.unit_b) for r in rows],
        "island_links": [
            {"unit_a": r.unit_a, "unit_b": r.unit_b, "distance_km": r.distance_km}
            for r in rows
            if r.kind == "island-link"
        ],
    }
    return await asyncio.to_thread(compact_json, body)


BUILDERS: dict[str, Callable[[UnitOfWork, str], Awaitable[bytes]]] = {UNIT_FACTS: unit_facts, ADJACENCY: adjacency}
