"""H3 hexagon layers (PyPI ``h3==4.5.0``) over any region, with population from ZIP points.

``contain="overlap"`` (default) keeps every cell that touches the region, so the cells cover it completely;
``"center"`` keeps the cells whose centre is inside (the H3 default: a tiling with ragged edges). Population is
summed from the ZIP points that lie inside the region, each into the cell that holds it. Regions crossing the
antimeridian (the far Aleutians) are not supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import h3
import numpy as np
import shapely
from shapely import GeometryType

from .zips import ZipPoints


@dataclass(frozen=True)
class H3Layer:
    resolution: int
    cells: np.ndarray  # H3 cell ids (15-hex-digit strings), sorted
    geometries: np.ndarray  # shapely Polygons, lon/lat
    population: np.ndarray  # int64: people in the ZIPs inside the region and the cell
    zip_count: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.cells)


def h3_layer(
    region: shapely.Geometry,
    resolution: int,
    zips: ZipPoints | None = None,
    contain: Literal["overlap", "center", "full"] = "overlap",
) -> H3Layer:
    """The cells of ``resolution`` for ``region`` (a lon/lat (Multi)Polygon), with ZIP population per cell."""
    shape = h3.geo_to_h3shape(region)
    # unique: h3 4.5 lists a cell once per polygon of a MultiPolygon that it touches.
    cells = np.unique(np.array(h3.h3shape_to_cells_experimental(shape, resolution, contain), dtype="U15"))
    geometries = cell_polygons(cells)
    population = np.zeros(len(cells), dtype=np.int64)
    zip_count = np.zeros(len(cells), dtype=np.int64)
    if zips is not None and len(cells):
        shapely.prepare(region)
        inside = np.flatnonzero(shapely.contains_xy(region, zips.lon, zips.lat))
        zip_cells = np.array(
            [
                h3.latlng_to_cell(lat, lon, resolution)
                for lat, lon in zip(zips.lat[inside].tolist(), zips.lon[inside].tolist(), strict=True)
            ],
            dtype="U15",
        )
        pos = np.minimum(np.searchsorted(cells, zip_cells), len(cells) - 1)
        hit = cells[pos] == zip_cells
        population = np.bincount(pos[hit], zips.population[inside][hit], len(cells)).astype(np.int64)
        zip_count = np.bincount(pos[hit], minlength=len(cells)).astype(np.int64)
    return H3Layer(
        resolution=resolution, cells=cells, geometries=geometries, population=population, zip_count=zip_count
    )


def cell_polygons(cells: np.ndarray) -> np.ndarray:
    """Lon/lat polygons of H3 cells (h3 gives (lat, lng) pairs: swapped here)."""
    if len(cells) == 0:
        return np.empty(0, dtype=object)
    rings = [np.asarray(h3.cell_to_boundary(cell))[:, ::-1] for cell in cells.tolist()]
    # Rings have 5 to 10 vertices (pentagons; extra vertices where a cell crosses an icosahedron edge): ragged.
    closed = [np.vstack([ring, ring[:1]]) for ring in rings]
    ring_ends = np.concatenate([[0], np.cumsum([len(ring) for ring in closed])])
    polygon_ends = np.arange(len(closed) + 1)
    return shapely.from_ragged_array(GeometryType.POLYGON, np.concatenate(closed), (ring_ends, polygon_ends))
