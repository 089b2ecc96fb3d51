"""metrics-service places an account in the unit geo-service places it in, next to borders and on them.

metrics-service locates the accounts whose owner did not say where they lie (a sales force that has not
published yet, another layer); its answer must be geo-service's, or a draft's figures disagree with what
publishing it gives. Near a border the two used to differ: metrics-service located in an equal-area projection,
whose curved edges move points near a straight lon/lat edge into the neighbour.
"""

from __future__ import annotations

from pathlib import Path

import libpysal
import numpy as np
import shapely
from geo_service.spatial_index import LayerIndex
from metrics_service.domain.layer import LayerData

LINCOLN, GASTON = "37109", "37071"


def nc_counties() -> tuple[list[str], np.ndarray]:
    path = Path(libpysal.examples.get_path("sids2.shp"))
    shapes = libpysal.io.open(str(path))
    dbf = libpysal.io.open(str(path.with_suffix(".dbf")))
    try:
        fips = [str(r[dbf.header.index("FIPS")]) for r in dbf]
        geoms = np.array([shapely.geometry.shape(s.__geo_interface__) for s in shapes], dtype=object)
    finally:
        shapes.close()
        dbf.close()
    order = np.argsort(fips)
    return [fips[i] for i in order], shapely.make_valid(geoms[order])


def points_by_the_borders(geoms: np.ndarray, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Every border vertex (on two counties at once) and points jittered up to ~30 m around them."""
    coords = shapely.get_coordinates(shapely.boundary(geoms))
    rng = np.random.default_rng(seed)
    jitter = coords + rng.uniform(-3e-4, 3e-4, coords.shape)
    both = np.vstack([coords, jitter])
    return both[:, 0], both[:, 1]


def test_metrics_locates_every_point_near_a_county_border_where_geo_service_does():
    ids, geoms = nc_counties()
    geo = LayerIndex.build("nc", list(zip(ids, shapely.to_wkb(geoms), strict=True)))
    metrics = LayerData.build("nc", ids, [{} for _ in ids], geoms)
    lon, lat = points_by_the_borders(geoms)
    assert len(lon) > 4_000
    by_geo = np.where((g := geo.locate(lon, lat)) >= 0, np.array(ids, dtype=object)[g], None)
    by_metrics = np.where((m := metrics.locate(lon, lat)) >= 0, np.array(ids, dtype=object)[m], None)
    differ = np.flatnonzero(by_geo != by_metrics)
    assert len(differ) == 0, [(lon[i], lat[i], by_geo[i], by_metrics[i]) for i in differ[:10]]


def test_an_account_ten_metres_from_the_lincoln_gaston_border_is_in_the_same_county_for_both():
    ids, geoms = nc_counties()
    border = shapely.intersection(geoms[ids.index(LINCOLN)], geoms[ids.index(GASTON)])
    point = shapely.line_interpolate_point(shapely.line_merge(border), 0.5, normalized=True)
    x, y = shapely.get_coordinates(point)[0]
    # 10 m north and south of the shared border (about 9e-5 degrees of latitude).
    lon, lat = np.array([x, x]), np.array([y + 9e-5, y - 9e-5])
    geo = LayerIndex.build("nc", list(zip(ids, shapely.to_wkb(geoms), strict=True)))
    metrics = LayerData.build("nc", ids, [{} for _ in ids], geoms)
    assert [ids[i] for i in geo.locate(lon, lat)] == [ids[i] for i in metrics.locate(lon, lat)]
