"""From unit polygons (lon/lat) to what the optimizer needs: adjacency with border lengths, projected points,
areas and perimeters. Pure computation on shapely geometry; reading files is the CLI's job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS
from territory_shared.geometry.adjacency import IslandLink, border_adjacency, link_islands
from territory_shared.geometry.projection import to_equal_area

from territory_optimizer.problem import Geometry


@dataclass(frozen=True)
class UnitShapes:
    edges: np.ndarray  # (E, 2)
    geometry: Geometry
    island_links: list[IslandLink]
    projected: np.ndarray  # shapely geometries in `crs`
    crs: CRS


def unit_shapes(
    geoms: Sequence[shapely.Geometry] | np.ndarray,
    source_crs: CRS | str | int = "EPSG:4326",
    *,
    edges: np.ndarray | None = None,
    include_point_contacts: bool = False,
    snap_tolerance_m: float = 0.5,
) -> UnitShapes:
    """Project to an equal-area CRS, find shared borders (unless `edges` are given) and link islands.

    Borders within `snap_tolerance_m` metres count as shared (layers whose neighbours do not share exact vertices).
    """
    arr = np.asarray(geoms, dtype=object)
    if shapely.is_empty(arr).any() or shapely.is_missing(arr).any():
        bad = int(np.flatnonzero(shapely.is_empty(arr) | shapely.is_missing(arr))[0])
        raise ValueError(f"unit {bad} has an empty geometry")
    arr = np.where(shapely.is_valid(arr), arr, shapely.make_valid(arr))
    projected, crs = to_equal_area(arr, source_crs)
    adjacency = border_adjacency(
        projected, include_point_contacts=include_point_contacts, snap_tolerance=snap_tolerance_m
    )
    if edges is None:
        edge_list, lengths = adjacency.edges, adjacency.lengths
    else:
        edge_list = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        known = {(int(a), int(b)): float(ln) for (a, b), ln in zip(adjacency.edges, adjacency.lengths, strict=True)}
        lengths = np.array([known.get((min(a, b), max(a, b)), 0.0) for a, b in edge_list.tolist()])
    linked, links = link_islands(edge_list, projected)
    lengths = np.concatenate([lengths, np.zeros(len(linked) - len(edge_list))])
    points = shapely.point_on_surface(projected)
    centroids = shapely.centroid(projected)
    # The centroid, unless it falls outside the unit (crescents, archipelagos): then a point on the surface.
    inside = shapely.contains(projected, centroids)
    chosen = np.where(inside, centroids, points)
    coords = shapely.get_coordinates(chosen)
    geometry = Geometry(
        coords=coords,
        areas=shapely.area(projected),
        border_lengths=lengths,
        perimeters=shapely.length(projected),
    )
    return UnitShapes(edges=linked, geometry=geometry, island_links=links, projected=projected, crs=crs)
