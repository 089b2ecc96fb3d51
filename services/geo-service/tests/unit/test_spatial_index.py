"""The cell-grid index answers exactly what a brute-force point-in-polygon test does, ties included."""

from __future__ import annotations

import numpy as np
import shapely
from geo_service.spatial_index import LayerIndex


def layer() -> LayerIndex:
    # A 6 x 4 checkerboard of unit squares plus a triangle over two of them, ids zero-padded so that
    # id order is position order.
    geoms = [shapely.box(x, y, x + 1, y + 1) for y in range(4) for x in range(6)]
    geoms.append(shapely.Polygon([(0.5, 0.5), (2.5, 0.5), (1.5, 2.5)]))
    ids = [f"u{i:02d}" for i in range(len(geoms))]
    return LayerIndex.build("test", list(zip(ids, shapely.to_wkb(np.array(geoms)), strict=True)))


def brute_force(index: LayerIndex, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    out = np.full(len(lon), -1)
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        hits = [u for u, g in enumerate(index.geometries) if g.intersects(shapely.Point(x, y))]
        out[i] = min(hits) if hits else -1
    return out


def test_random_points_match_brute_force():
    index = layer()
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-1, 7, 3000), rng.uniform(-1, 5, 3000)
    assert np.array_equal(index.locate(lon, lat), brute_force(index, lon, lat))


def test_points_on_shared_edges_and_corners_go_to_the_smallest_unit_id():
    index = layer()
    lon = np.array([1.0, 1.0, 3.0, 0.0, 6.0, 2.0])
    lat = np.array([0.3, 1.0, 2.0, 0.0, 4.0, 3.5])
    assert np.array_equal(index.locate(lon, lat), brute_force(index, lon, lat))
    assert index.locate(np.array([1.0]), np.array([0.3]))[0] == 0  # the edge between u00 and u01


def test_points_outside_every_unit_are_minus_one():
    index = layer()
    assert index.locate(np.array([-5.0, 50.0, 3.5]), np.array([0.5, 0.5, 9.0])).tolist() == [-1, -1, -1]
