"""Small synthetic instances: a grid of unit squares in lon/lat-free metres."""

from __future__ import annotations

import numpy as np
import shapely
from territory_optimizer import Geometry, Metric, Problem
from territory_shared.geometry import border_adjacency


def grid_squares(rows: int, cols: int) -> np.ndarray:
    return np.array([shapely.box(c, r, c + 1, r + 1) for r in range(rows) for c in range(cols)], dtype=object)


def grid_problem(rows=6, cols=6, k=4, tolerance=0.05, seed=0, **kwargs) -> Problem:
    geoms = grid_squares(rows, cols)
    adj = border_adjacency(geoms)
    rng = np.random.default_rng(seed)
    weights = rng.integers(5, 15, size=rows * cols).astype(float)
    metrics = kwargs.pop("metrics", None) or [Metric("accounts", weights, tolerance)]
    return Problem(
        unit_ids=[f"u{q}" for q in range(rows * cols)],
        metrics=metrics,
        edges=adj.edges,
        k=k,
        geometry=Geometry(
            coords=shapely.get_coordinates(shapely.centroid(geoms)),
            areas=shapely.area(geoms),
            border_lengths=adj.lengths,
            perimeters=shapely.length(geoms),
        ),
        **kwargs,
    )
