"""Territory shapes: the dissolved union of a territory's units, and a lighter copy for display."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# About 100 m at mid latitudes: invisible at the zooms a whole territory is shown at.
DISPLAY_TOLERANCE_DEG = 0.001


def dissolve(geoms: Sequence[BaseGeometry] | np.ndarray) -> BaseGeometry | None:
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return None
    try:
        # Units of a layer tile the plane without overlaps: the coverage union is far faster.
        merged = shapely.coverage_union_all(arr)
    except shapely.errors.GEOSException:
        merged = shapely.union_all(arr)
    if not merged.is_valid:
        merged = shapely.union_all(arr)
    return merged


def for_display(geom: BaseGeometry | None, tolerance: float = DISPLAY_TOLERANCE_DEG) -> BaseGeometry | None:
    if geom is None:
        return None
    return shapely.simplify(geom, tolerance, preserve_topology=True)


def tolerance_for_zoom(zoom: float | None) -> float:
    """Half a screen pixel at that web-map zoom, in degrees (256-pixel tiles)."""
    if zoom is None:
        return 0.0
    return 360.0 / (256.0 * math.pow(2.0, max(0.0, min(22.0, zoom)))) / 2.0
