"""Vector tiles (Mapbox Vector Tile 2.1) of a layer's units, cut from the unsimplified shapes.

Every unit is projected to Web Mercator tile coordinates, clipped to the tile plus a small buffer and snapped to the
tile's integer grid (4096 steps per tile: 1/16 of a 256-pixel tile's pixel). Snapping is the only simplification:
two neighbours that share a vertex snap it to the same grid point, so shared borders stay shared at every zoom (no
slivers, no overlaps), and nothing finer than a sixteenth of a pixel is lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

EXTENT = 4096
# Beyond the tile's edge, in grid steps (8 pixels): strokes along an edge are drawn whole, and the cut never shows.
BUFFER = 128
MAX_ZOOM = 22
LAYER_NAME = "units"


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int

    def problem(self) -> tuple[str, str] | None:
        """The field at fault and why, or None for a tile that exists."""
        if not 0 <= self.z <= MAX_ZOOM:
            return "z", f"zoom must be between 0 and {MAX_ZOOM}"
        side = 1 << self.z
        if not 0 <= self.x < side:
            return "x", f"x must be between 0 and {side - 1} at zoom {self.z}"
        if not 0 <= self.y < side:
            return "y", f"y must be between 0 and {side - 1} at zoom {self.z}"
        return None

    def lonlat_bounds(self, buffer: float = BUFFER / EXTENT) -> tuple[float, float, float, float]:
        """The tile with its buffer in lon/lat: west, south, east, north."""
        side = 1 << self.z
        west = (self.x - buffer) / side * 360.0 - 180.0
        east = (self.x + 1 + buffer) / side * 360.0 - 180.0
        north = _lat(self.y - buffer, side)
        south = _lat(self.y + 1 + buffer, side)
        return west, south, east, north


def covered_tiles(bounds: np.ndarray, z: int) -> list[TileAddress]:
    """The tiles of zoom ``z`` that some unit's bbox reaches (``bounds``: one west, south, east, north row per unit),
    in x then y order: every tile that can hold a unit, and no tile of the empty space between units."""
    if len(bounds) == 0:
        return []
    side = 1 << z
    x0, x1 = (_column(bounds[:, i], side) for i in (0, 2))
    y0, y1 = (_row(bounds[:, i], side) for i in (3, 1))
    nx, ny = x1 - x0 + 1, y1 - y0 + 1
    per_unit = nx * ny
    unit = np.repeat(np.arange(len(bounds)), per_unit)
    k = np.arange(int(per_unit.sum())) - np.repeat(np.cumsum(per_unit) - per_unit, per_unit)
    keys = np.unique(((x0[unit] + k % nx[unit]) << 32) | (y0[unit] + k // nx[unit]))
    return [TileAddress(z, int(key >> 32), int(key & 0xFFFFFFFF)) for key in keys]


def _column(lon: np.ndarray, side: int) -> np.ndarray:
    return np.clip(np.floor((lon + 180.0) / 360.0 * side), 0, side - 1).astype(np.int64)


def _row(lat: np.ndarray, side: int) -> np.ndarray:
    lat = np.radians(np.clip(lat, -85.0511287798, 85.0511287798))
    rows: np.ndarray = np.clip(np.floor((1 - np.arcsinh(np.tan(lat)) / math.pi) / 2 * side), 0, side - 1)
    return rows.astype(np.int64)


def _lat(y: float, side: int) -> float:
    n = math.pi * (1 - 2 * y / side)
    return math.degrees(math.atan(math.sinh(max(-math.pi, min(math.pi, n)))))


def to_tile_grid(coords: np.ndarray, tile: TileAddress) -> np.ndarray:
    """lon/lat -> the tile's grid (y down), unrounded."""
    side = 1 << tile.z
    lon = coords[:, 0]
    lat = np.clip(coords[:, 1], -85.0511287798, 85.0511287798)
    mx = (lon + 180.0) / 360.0 * side
    s = np.sin(np.radians(lat))
    my = (0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)) * side
    return np.column_stack([(mx - tile.x) * EXTENT, (my - tile.y) * EXTENT])


def cut(geometries: np.ndarray, tile: TileAddress) -> np.ndarray:
    """The units' shapes in the tile's integer grid, clipped with the buffer; empty where a unit leaves nothing."""
    projected = shapely.transform(geometries, lambda c: to_tile_grid(c, tile))
    clipped = shapely.clip_by_rect(projected, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    snapped = _without_repeats(shapely.transform(clipped, np.rint))
    out = np.empty(len(geometries), dtype=object)
    out[:] = None
    # A unit smaller than the grid snaps to nothing (or a line): nothing to fill.
    for i in np.flatnonzero(shapely.area(snapped) > 0):
        out[i] = _polygonal(snapped[i])
    return out


def _without_repeats(shapes: np.ndarray) -> np.ndarray:
    try:
        return shapely.remove_repeated_points(shapes, 0.0)
    except shapely.errors.GEOSException:
        # A ring that snapped onto fewer than three points (a sliver of a unit, a tiny hole): GEOS snaps such a
        # shape again itself, dropping what collapsed; the others keep their vertices exactly.
        return np.array([_one_without_repeats(g) for g in shapes], dtype=object)


def _one_without_repeats(shape: shapely.Geometry) -> shapely.Geometry:
    try:
        return shapely.remove_repeated_points(shape, 0.0)
    except shapely.errors.GEOSException:
        # Ring by ring: a ring left with fewer than three distinct points is dropped (a hole, or the whole polygon
        # when it is the shell). GEOS's own re-snapping (set_precision) can fail on such shapes ("unable to assign
        # free hole to a shell"); a tile needs only the rings to fill, not a valid polygon.
        polygons = []
        for part in shapely.get_parts(shape):
            if not isinstance(part, shapely.Polygon):
                continue
            shell, *holes = (_distinct_ring(r) for r in (part.exterior, *part.interiors))
            if shell is not None:
                polygons.append(shapely.Polygon(shell, [h for h in holes if h is not None]))
        return shapely.MultiPolygon(polygons) if polygons else shapely.Polygon()


def _distinct_ring(ring: shapely.LinearRing) -> np.ndarray | None:
    coords = shapely.get_coordinates(ring)
    coords = coords[np.r_[True, np.any(np.diff(coords, axis=0) != 0, axis=1)]]
    return coords if len(coords) >= 4 else None  # three distinct points and the closing one


def _polygonal(shape: shapely.Geometry) -> shapely.Geometry | None:
    """The polygons of a clipped shape (a cut along the buffer can leave a collection with lines in it)."""
    if isinstance(shape, shapely.Polygon | shapely.MultiPolygon):
        return shape
    parts = [p for p in shapely.get_parts(shape) if isinstance(p, shapely.Polygon) and p.area > 0]
    return shapely.MultiPolygon(parts) if parts else None


def encode(unit_ids: list[str], shapes: np.ndarray) -> bytes:
    """One layer, ``units``, with each feature's ``unit_id``; b"" when no unit reaches the tile.

    Written directly (the geometry is already on the grid): the commands of every ring are built and varint-encoded
    as whole arrays, so a tile of 10,000+ units takes milliseconds rather than seconds.
    """
    keep = [i for i, g in enumerate(shapes) if g is not None]
    if not keep:
        return b""
    oriented = shapely.orient_polygons(np.array([shapes[i] for i in keep], dtype=object))  # exteriors: +area, y down
    polygons, feature_of_polygon = shapely.get_parts(oriented, return_index=True)
    rings, polygon_of_ring = _rings(polygons)
    coords, ring_of_point = shapely.get_coordinates(rings, return_index=True)
    # Rings repeat their first point last; MVT closes a ring with ClosePath instead.
    last = np.r_[ring_of_point[1:] != ring_of_point[:-1], True]
    coords, ring_of_point = coords[~last].astype(np.int64), ring_of_point[~last]
    points = np.bincount(ring_of_point, minlength=len(rings))
    feature_of_ring = feature_of_polygon[polygon_of_ring]
    # Each feature's cursor starts at (0, 0): deltas from the previous point of the same feature.
    feature_of_point = feature_of_ring[ring_of_point]
    deltas = np.diff(coords, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    first_of_feature = np.r_[True, feature_of_point[1:] != feature_of_point[:-1]]
    deltas[first_of_feature] = coords[first_of_feature]
    zigzag = ((deltas << 1) ^ (deltas >> 63)).astype(np.uint64)
    # Per ring: MoveTo(1) x y, LineTo(n-1) x y ..., ClosePath: 2n + 3 integers.
    size = 2 * points + 3
    start = np.cumsum(size) - size
    stream = np.empty(int(size.sum()), dtype=np.uint64)
    stream[start] = 9
    stream[start + 3] = (2 | ((points - 1) << 3)).astype(np.uint64)
    stream[start + size - 1] = 15
    first_point = np.cumsum(points) - points
    k = np.arange(len(coords)) - np.repeat(first_point, points)
    at = np.repeat(start, points) + 1 + 2 * k + (k > 0)
    stream[at] = zigzag[:, 0]
    stream[at + 1] = zigzag[:, 1]
    data, offsets = _varints(stream)
    feature_start = np.searchsorted(feature_of_ring, np.arange(len(keep)), side="left")
    value_start = np.r_[start, len(stream)][np.r_[feature_start, len(rings)]]
    byte_start = np.r_[offsets, len(data)][value_start]
    blob = data.tobytes()
    features = []
    for n in range(len(keep)):
        geometry = blob[byte_start[n] : byte_start[n + 1]]
        tags = b"\x00" + _varint(n)
        body = b"\x12" + _varint(len(tags)) + tags + b"\x18\x03\x22" + _varint(len(geometry)) + geometry
        features.append(b"\x12" + _varint(len(body)) + body)
    values = [_string_value(unit_ids[i]) for i in keep]
    layer = b"".join(
        [
            b"\x78\x02",  # version 2
            _bytes_field(1, LAYER_NAME.encode()),
            *features,
            _bytes_field(3, b"unit_id"),
            *(_bytes_field(4, v) for v in values),
            b"\x28" + _varint(EXTENT),
        ]
    )
    return _bytes_field(3, layer)


def _rings(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each polygon's exterior then its holes, with the polygon each ring belongs to."""
    holes = shapely.get_num_interior_rings(polygons)
    rings, polygon_of_ring = shapely.get_rings(polygons, return_index=True)
    assert len(rings) == int(holes.sum()) + len(polygons)
    return rings, polygon_of_ring


def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varints of unsigned values, concatenated; and where each value's bytes start."""
    length = np.ones(len(values), dtype=np.int64)
    for k in range(1, 10):
        length += values >= np.uint64(1 << (7 * k))
    offsets = np.cumsum(length) - length
    out = np.empty(int(length.sum()), dtype=np.uint8)
    for k in range(int(length.max())):
        has = length > k
        byte = (values[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (length[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[offsets[has] + k] = (byte | more).astype(np.uint8)
    return out, offsets


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _string_value(text: str) -> bytes:
    return _bytes_field(1, text.encode())
