"""A small TopoJSON decoder (quantized, delta-encoded arcs) to Shapely (multi)polygons.

Only what us-atlas uses: a ``transform``, GeometryCollections of Polygon / MultiPolygon / null geometries.
Every feature becomes a MultiPolygon (empty for a null geometry); rings that quantization collapsed to fewer
than 4 points are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely import GeometryType


@dataclass(frozen=True)
class TopoFeatures:
    ids: list[str]
    properties: list[dict[str, Any]]
    geometries: np.ndarray  # shapely MultiPolygons


def decode_arcs(topology: dict[str, Any]) -> list[np.ndarray]:
    """Absolute coordinates (n x 2, lon/lat) of every arc: undo the delta encoding, then the quantization."""
    arcs = topology["arcs"]
    lengths = np.fromiter((len(a) for a in arcs), dtype=np.int64, count=len(arcs))
    flat = np.array([p[:2] for a in arcs for p in a], dtype=np.float64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    transform = topology.get("transform")
    if transform is not None:
        # A running sum over all arcs, minus the sum reached before each arc's start: per-arc cumulative sums.
        running = np.cumsum(flat, axis=0)
        before = np.where(starts[:, None] > 0, running[np.maximum(starts - 1, 0)], 0.0)
        flat = running - np.repeat(before, lengths, axis=0)
        flat = flat * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
    return np.split(flat, starts[1:])


def _ring(arc_ids: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    # Arc ~i is arc i reversed; consecutive arcs share their junction point, kept once.
    parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in arc_ids]
    return np.concatenate([parts[0]] + [p[1:] for p in parts[1:]])


def decode_features(topology: dict[str, Any], object_name: str) -> TopoFeatures:
    arcs = decode_arcs(topology)
    ids, props = [], []
    coords: list[np.ndarray] = []
    ring_ends, polygon_ends, feature_ends = [0], [0], [0]
    n_coords = 0
    for geometry in topology["objects"][object_name]["geometries"]:
        ids.append(str(geometry.get("id", "")))
        props.append(dict(geometry.get("properties") or {}))
        kind = geometry.get("type")
        polygons = {"Polygon": [geometry.get("arcs")], "MultiPolygon": geometry.get("arcs")}.get(kind) or []
        for polygon in polygons:
            rings = [_ring(r, arcs) for r in polygon]
            if not rings or len(rings[0]) < 4:  # the exterior collapsed: so does the polygon
                continue
            for ring in (r for r in rings if len(r) >= 4):
                coords.append(ring)
                n_coords += len(ring)
                ring_ends.append(n_coords)
            polygon_ends.append(len(ring_ends) - 1)
        feature_ends.append(len(polygon_ends) - 1)
    offsets = (np.array(ring_ends), np.array(polygon_ends), np.array(feature_ends))
    all_coords = np.concatenate(coords) if coords else np.empty((0, 2))
    geometries = shapely.from_ragged_array(GeometryType.MULTIPOLYGON, all_coords, offsets)
    return TopoFeatures(ids=ids, properties=props, geometries=geometries)
