"""Unit adjacency from polygons (STRtree based) and linking of disconnected parts (islands).

Lengths are in the units of the geometry's CRS: pass projected geometry when border lengths matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class Adjacency:
    """Undirected edges (i < j, sorted) between units and the length of the border each pair shares."""

    edges: np.ndarray  # (E, 2) int64
    lengths: np.ndarray  # (E,) float, 0.0 for point contacts and added links


@dataclass(frozen=True)
class IslandLink:
    """An edge added by `link_islands` to join a disconnected component to its nearest unit elsewhere."""

    unit_a: int
    unit_b: int
    distance: float


def border_adjacency(
    geoms: Sequence[shapely.Geometry] | np.ndarray,
    *,
    include_point_contacts: bool = False,
    snap_tolerance: float = 0.0,
) -> Adjacency:
    """Pairs of units that share a border of positive length (rook); optionally also corner contacts (queen).

    `snap_tolerance` (CRS units) counts a border as shared where the boundaries are within that distance, for
    layers whose neighbours were not digitised on exactly the same vertices.
    """
    arr = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(arr)
    if snap_tolerance > 0:
        left, right = tree.query(arr, predicate="dwithin", distance=snap_tolerance)
    else:
        left, right = tree.query(arr, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    boundaries = shapely.boundary(arr)
    lengths = shapely.length(shapely.intersection(boundaries[left], boundaries[right]))
    positive = lengths > 0
    if snap_tolerance > 0:
        # only pairs without an exact shared border are measured again, within the tolerance
        redo = np.flatnonzero(~positive)
        if len(redo):
            near = shapely.intersection(boundaries[left[redo]], shapely.buffer(boundaries[right[redo]], snap_tolerance))
            snapped = shapely.length(near)
            # a buffered corner contact still has a length of about 2 * tolerance: not a border
            ok = snapped > 4.0 * snap_tolerance
            lengths[redo[ok]] = snapped[ok]
            positive[redo[ok]] = True
    keep = positive | include_point_contacts
    edges = np.column_stack([left[keep], right[keep]]).astype(np.int64)
    lengths = np.where(positive[keep], lengths[keep], 0.0)
    order = np.lexsort((edges[:, 1], edges[:, 0])) if len(edges) else np.arange(0)
    return Adjacency(edges=edges[order].reshape(-1, 2), lengths=np.asarray(lengths, dtype=float)[order])


def components(n_units: int, edges: np.ndarray) -> np.ndarray:
    """Component label of each unit of the undirected graph."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n_units, n_units))
    return connected_components(graph, directed=False)[1]


def link_islands(
    edges: np.ndarray | Sequence[tuple[int, int]], geoms: Sequence[shapely.Geometry] | np.ndarray
) -> tuple[np.ndarray, list[IslandLink]]:
    """Connect every disconnected component to its nearest unit in another component.

    Returns the edge list with the links appended and the links added (closest pair of units, with their distance),
    repeating until the graph is connected.
    """
    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    out = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    links: list[IslandLink] = []
    if n <= 1:
        return out, links
    while True:
        labels = components(n, out)
        n_comp = int(labels.max()) + 1
        if n_comp == 1:
            return out, links
        sizes = np.bincount(labels)
        added: list[IslandLink] = []
        seen_pairs: set[tuple[int, int]] = set()
        for comp in np.argsort(-sizes, kind="stable")[1:]:
            inside = np.flatnonzero(labels == comp)
            outside = np.flatnonzero(labels != comp)
            tree = shapely.STRtree(arr[outside])
            near, dist = tree.query_nearest(arr[inside], return_distance=True, all_matches=False)
            best = int(np.argmin(dist))
            a, b = int(inside[near[0, best]]), int(outside[near[1, best]])
            pair = (min(a, b), max(a, b))
            if pair not in seen_pairs:
                seen_pairs.add(pair)
                added.append(IslandLink(pair[0], pair[1], float(dist[best])))
        links.extend(added)
        out = np.vstack([out, np.array([[lk.unit_a, lk.unit_b] for lk in added], dtype=np.int64)])
