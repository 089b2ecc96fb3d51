"""Equal-area projection of lon/lat geometry, so that areas, lengths and compactness mean something."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS, Transformer

CONUS_ALBERS = CRS.from_epsg(5070)
# Lower 48 plus a margin; data entirely inside it is projected to CONUS Albers (EPSG:5070).
CONUS_BOUNDS = (-125.5, 24.0, -66.5, 49.8)


def choose_equal_area_crs(bounds: Sequence[float] | np.ndarray) -> CRS:
    """EPSG:5070 for data within the contiguous US, else a Lambert azimuthal equal-area centred on the data.

    `bounds` is (min_lon, min_lat, max_lon, max_lat) in degrees.
    """
    min_lon, min_lat, max_lon, max_lat = (float(b) for b in bounds)
    west, south, east, north = CONUS_BOUNDS
    if min_lon >= west and max_lon <= east and min_lat >= south and max_lat <= north:
        return CONUS_ALBERS
    lon0 = (min_lon + max_lon) / 2.0
    lat0 = (min_lat + max_lat) / 2.0
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


def to_equal_area(
    geoms: Sequence[shapely.Geometry] | np.ndarray,
    source_crs: CRS | str | int = "EPSG:4326",
    target_crs: CRS | None = None,
) -> tuple[np.ndarray, CRS]:
    """Project lon/lat geometries to an equal-area CRS (chosen from their extent unless given).

    Returns the projected geometries (same order, metres) and the CRS used.
    """
    arr = np.asarray(geoms, dtype=object)
    if target_crs is None:
        target_crs = choose_equal_area_crs(shapely.total_bounds(arr))
    transformer = Transformer.from_crs(CRS.from_user_input(source_crs), target_crs, always_xy=True)

    def _project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(arr, _project), target_crs
