"""Cutting shapes into a tile's grid, and which tiles a layer covers: pure geometry, no service."""

from __future__ import annotations

import math

import numpy as np
import shapely
from geo_service.domain.tiles import EXTENT, TileAddress, covered_tiles, cut, encode, to_tile_grid


def from_grid(xy: list[tuple[float, float]], tile: TileAddress) -> list[tuple[float, float]]:
    """The tile's grid -> lon/lat (the inverse of to_tile_grid)."""
    side = 1 << tile.z
    out = []
    for x, y in xy:
        lon = (tile.x + x / EXTENT) / side * 360.0 - 180.0
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (tile.y + y / EXTENT) / side))))
        out.append((lon, lat))
    return out


def test_a_shape_whose_rings_collapse_on_the_grid_keeps_what_is_left_and_does_not_fail():
    # Found in the approximate ZIP areas at zoom 0: one part snaps onto a single point, the other onto a ring that
    # crosses itself; GEOS can neither drop the repeated points nor re-snap it ("unable to assign free hole").
    tile = TileAddress(0, 0, 0)
    dot = [(1179.2, 1491.1), (1179.3, 1491.2), (1179.1, 1491.3), (1179.2, 1491.1)]
    crossed = [(1181.1, 1492.2), (1181.2, 1493.1), (1180.9, 1494.2), (1181.3, 1491.9), (1180.2, 1492.1),
               (1180.1, 1491.2), (1179.9, 1490.8), (1181.1, 1492.2)]  # fmt: skip
    shape = shapely.MultiPolygon([shapely.Polygon(from_grid(dot, tile)), shapely.Polygon(from_grid(crossed, tile))])
    snapped = np.rint(to_tile_grid(shapely.get_coordinates(shape), tile))
    assert snapped[:4].tolist() == [[1179, 1491]] * 4  # the dot is one point on the grid

    out = cut(np.array([shape], dtype=object), tile)

    assert out[0] is not None and shapely.area(out[0]) > 0
    assert encode(["13650"], out)  # and it encodes


def test_the_covered_tiles_are_those_some_unit_reaches():
    # Two units, one around Raleigh and one around Denver: at zoom 6 each sits in one tile, nothing between them.
    units = np.array([[-78.7, 35.7, -78.5, 35.9], [-105.1, 39.6, -104.8, 39.8]])
    assert covered_tiles(units, 6) == [TileAddress(6, 13, 24), TileAddress(6, 18, 25)]
    # A unit across a tile corner reaches the four tiles around it.
    corner = TileAddress(6, 18, 25).lonlat_bounds(buffer=0)
    west, north = corner[0], corner[3]
    assert covered_tiles(np.array([[west - 0.1, north - 0.1, west + 0.1, north + 0.1]]), 6) == [
        TileAddress(6, 17, 24),
        TileAddress(6, 17, 25),
        TileAddress(6, 18, 24),
        TileAddress(6, 18, 25),
    ]
    assert covered_tiles(np.empty((0, 4)), 3) == []
