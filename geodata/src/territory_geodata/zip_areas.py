"""Approximate ZIP areas (not official ZIP boundaries): Voronoi cells of the ZIP points, clipped to each state.

No package ships ZIP (ZCTA) boundaries; these cells are the region nearer to a ZIP's point than to any other ZIP
point of the same state. Label them "approximate ZIP areas" wherever they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .counties import States
from .zips import ZipPoints

LABEL = "approximate ZIP areas (not official ZIP boundaries)"


@dataclass(frozen=True)
class ZipAreas:
    zip: np.ndarray
    state: np.ndarray
    geometries: np.ndarray  # lon/lat (Multi)Polygons; empty where the point lies outside its state's shape
    label: str = LABEL


def approximate_zip_areas(zips: ZipPoints, states: States) -> ZipAreas:
    geometries = np.empty(len(zips), dtype=object)
    geometries[:] = shapely.Polygon()
    for abbr, shape in zip(states.abbr.tolist(), states.geometries, strict=True):
        members = np.flatnonzero(zips.state == abbr)
        if len(members) == 0:
            continue
        # ZIPs sharing a point share its cell (Voronoi needs distinct sites).
        xy = np.column_stack([zips.lon[members], zips.lat[members]])
        sites, first, inverse = np.unique(xy, axis=0, return_index=True, return_inverse=True)
        if len(sites) == 1:
            cells = np.array([shape], dtype=object)
        else:
            diagram = shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=shape, ordered=True)
            cells = shapely.intersection(shapely.get_parts(diagram), shape)
        geometries[members] = cells[inverse.ravel()]
    return ZipAreas(zip=zips.zip, state=zips.state, geometries=geometries)
