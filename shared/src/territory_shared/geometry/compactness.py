"""Polsby-Popper compactness (4*pi*A / P**2): 1 for a disc, towards 0 for stretched or ragged shapes.

Compute it on projected (equal-area) geometry: see `projection.to_equal_area`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely


def polsby_popper(geoms: Sequence[shapely.Geometry] | np.ndarray) -> np.ndarray:
    """Polsby-Popper score of each geometry (0 for empty or degenerate ones)."""
    arr = np.asarray(geoms, dtype=object)
    area = shapely.area(arr)
    perimeter = shapely.length(arr)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(perimeter > 0, 4.0 * np.pi * area / perimeter**2, 0.0)
    return np.asarray(score, dtype=float)


def territory_polsby_popper(
    geoms: Sequence[shapely.Geometry] | np.ndarray, labels: Sequence[int] | np.ndarray
) -> dict[int, float]:
    """Dissolve the units of each territory (label) and score it; returns {label: score}."""
    arr = np.asarray(geoms, dtype=object)
    lab = np.asarray(labels)
    out: dict[int, float] = {}
    for label in np.unique(lab):
        union = shapely.union_all(arr[lab == label])
        out[int(label)] = float(polsby_popper([union])[0])
    return out


def mean_polsby_popper(geoms: Sequence[shapely.Geometry] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    """Mean Polsby-Popper score over the territories given by `labels`."""
    scores = territory_polsby_popper(geoms, labels)
    return float(np.mean(list(scores.values()))) if scores else 0.0
