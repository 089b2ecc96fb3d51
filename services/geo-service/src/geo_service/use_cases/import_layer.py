"""Import a unit layer from a file, as a job: read in chunks, validate every feature, compute adjacency,
store units, adjacency and the ``geo.layer.imported.v1`` event in one transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from territory_shared.events.geo import LayerImportedV1
from territory_shared.geometry.adjacency import border_adjacency, link_islands
from territory_shared.geometry.projection import to_equal_area
from territory_shared.jobs import JobFailed, Progress

from geo_service.db.records import LayerRecord
from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.features import ValidatedLayer, ValidationOptions, validate_features
from geo_service.domain.framing import main_cluster_frame
from geo_service.readers import Chunk, CsvGeometry, count_features, read_chunks

MAX_PROBLEMS_LISTED = 1_000


@dataclass(frozen=True)
class LayerImport:
    name: str
    path: Path
    format: str
    id_column: str
    attributes: list[str]
    csv_geometry: CsvGeometry
    options: ValidationOptions
    link_islands: bool = True
    contiguity: str = "rook"  # rook: a shared border of positive length; queen: a shared point is enough
    name_column: str | None = None  # each unit's display name ("Cook, IL"), when the file has one

    def columns_read(self) -> list[str]:
        """The columns read beside the id: the attributes, and the name column unless it is the id itself."""
        extra = [self.name_column] if self.name_column and self.name_column != self.id_column else []
        return [*self.attributes, *extra]


async def import_layer(uow: UnitOfWork, tenant_id: str, request: LayerImport, progress: Progress) -> dict[str, Any]:
    total = await asyncio.to_thread(count_features, request.path, request.format)
    await progress("reading", 0, f"{total:,} features")
    columns = request.columns_read()
    merged = Chunk([], [], {a: [] for a in columns})
    for chunk in await asyncio.to_thread(
        lambda: list(read_chunks(request.path, request.format, request.id_column, columns, request.csv_geometry))
    ):
        merged.ids += chunk.ids
        merged.wkbs += chunk.wkbs
        for a in columns:
            merged.attributes[a] += chunk.attributes[a]
    names = None
    if request.name_column:
        raw = merged.ids if request.name_column == request.id_column else merged.attributes.pop(request.name_column)
        names = [display_name(v) for v in raw]
    await progress("validating", 30, f"{len(merged.ids):,} features read")
    layer = await asyncio.to_thread(validate_features, merged.ids, merged.wkbs, merged.attributes, request.options)
    del merged
    if not layer.ids:
        raise JobFailed("The file holds no features.", problems=[])
    if layer.problems:
        raise JobFailed(
            f"{len(layer.problems):,} feature problem(s); nothing was stored. "
            "Fix the features, or import with repair=true to repair what can be repaired.",
            type="about:blank",
            title="Invalid features",
            status=422,
            problem_count=len(layer.problems),
            problems=[{"feature_id": p.feature_id, "reason": p.reason} for p in layer.problems[:MAX_PROBLEMS_LISTED]],
        )
    await progress("adjacency", 50, "computing which units share a border")
    units, edges, links = await asyncio.to_thread(prepare_units, layer, request.link_islands, request.contiguity, names)
    await progress("storing", 70, f"{len(units):,} units, {len(edges):,} adjacency pairs")
    async with uow:
        layer_id = str(uuid.uuid4())
        bounds = shapely.total_bounds(layer.geometries)
        record = LayerRecord(
            id=layer_id,
            tenant_id=tenant_id,
            name=request.name,
            kind=layer.kind,
            attributes=list(request.attributes),
            unit_count=len(units),
            bbox=[float(b) for b in bounds],
            frame=layer_frame(units),
            created_at=datetime.now(UTC),
        )
        for row in units:
            row["layer_id"] = layer_id
        for row in edges:
            row["layer_id"] = layer_id
        await uow.layers.add(record, units, edges)
        uow.emit(
            tenant_id,
            layer_id,
            LayerImportedV1(
                layer_id=layer_id,
                name=request.name,
                kind=layer.kind,
                unit_count=len(units),
                attributes=list(request.attributes),
            ),
        )
        await uow.commit()
    return {
        "layer_id": layer_id,
        "unit_count": len(units),
        "kind": layer.kind,
        "adjacency_pairs": len(edges),
        "island_links": links,
        "repairs": [{"feature_id": r.feature_id, "reason": r.reason} for r in layer.repairs],
    }


def layer_frame(units: Sequence[dict[str, Any]]) -> list[float] | None:
    """Where a map of the layer opens, from its unit rows' inner points."""
    lon = np.array([u["centroid_lon"] for u in units], dtype=float)
    lat = np.array([u["centroid_lat"] for u in units], dtype=float)
    return main_cluster_frame(lon, lat)


def display_name(value: object) -> str | None:
    """A unit's name as stored: trimmed text of at most 200 characters; None for an empty cell."""
    if value is None or (isinstance(value, float) and value != value):  # NaN: an empty cell of a numeric column
        return None
    text = str(value).strip()
    return text[:200] or None


def prepare_units(
    layer: ValidatedLayer, link: bool, contiguity: str, names: Sequence[str | None] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The unit rows (sorted by id: ``idx``), adjacency rows and island links of a validated layer; ``names``, in
    the layer's order, are the units' display names.

    Every layer is stored through here, imported or derived (units split into finer ones), so adjacency means the
    same on every layer.
    """
    order = np.argsort(np.array(layer.ids, dtype=object), kind="stable")
    ids = [layer.ids[i] for i in order]
    geoms = layer.geometries[order]
    projected, _ = to_equal_area(geoms)
    areas = shapely.area(projected) / 1e6
    centroids = shapely.point_on_surface(geoms)
    bounds = shapely.bounds(geoms)
    wkbs = shapely.to_wkb(geoms)
    units = [
        {
            "unit_id": ids[i],
            "idx": i,
            "wkb": wkbs[i],
            "attributes": {a: float(layer.attributes[a][order[i]]) for a in layer.attributes},
            "area_km2": float(areas[i]),
            "centroid_lon": float(shapely.get_x(centroids[i])),
            "centroid_lat": float(shapely.get_y(centroids[i])),
            "minx": float(bounds[i, 0]),
            "miny": float(bounds[i, 1]),
            "maxx": float(bounds[i, 2]),
            "maxy": float(bounds[i, 3]),
            "name": names[order[i]] if names is not None else None,
        }
        for i in range(len(ids))
    ]
    if layer.kind != "polygon":
        return units, [], []
    adjacency = border_adjacency(geoms, include_point_contacts=contiguity == "queen")
    edges = [{"unit_a": ids[a], "unit_b": ids[b], "kind": "border", "distance_km": 0.0} for a, b in adjacency.edges]
    links: list[dict[str, Any]] = []
    if link and len(ids) > 1:
        _, added = link_islands(adjacency.edges, projected)
        for lk in added:
            edges.append(
                {
                    "unit_a": ids[lk.unit_a],
                    "unit_b": ids[lk.unit_b],
                    "kind": "island-link",
                    "distance_km": lk.distance / 1000,
                }
            )
            links.append(
                {"unit_a": ids[lk.unit_a], "unit_b": ids[lk.unit_b], "distance_km": round(lk.distance / 1000, 3)}
            )
    return units, edges, links
