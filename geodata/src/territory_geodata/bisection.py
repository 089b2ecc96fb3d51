"""Recursive weighted bisection: ``k`` compact groups of points, each with about ``1/k`` of the weight.

Used to put reps where the potential is (one rep per equal share) and to cut the starting alignment. Points are
first mapped with a sinusoidal (equal-area) projection centred on -96 deg, with the Aleutians west of 180 deg moved
next to the rest of Alaska, so that cuts are made in kilometres.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0
CENTRAL_MERIDIAN = -96.0


def project_km(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.where(lon > 0, lon - 360.0, lon)  # the US has no eastern longitudes but the far Aleutians
    x = EARTH_RADIUS_KM * np.radians(lon - CENTRAL_MERIDIAN) * np.cos(np.radians(lat))
    y = EARTH_RADIUS_KM * np.radians(lat)
    return x, y


def bisect(x: np.ndarray, y: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """A label 0..k-1 per point: cut across the longer side at the weighted quantile, recursively."""
    if k > len(x):
        raise ValueError(f"cannot make {k} groups of {len(x)} points")
    labels = np.zeros(len(x), dtype=np.int64)
    stack = [(np.arange(len(x)), k, 0)]
    while stack:
        idx, parts, first_label = stack.pop()
        if parts == 1:
            labels[idx] = first_label
            continue
        left_parts = parts // 2
        wide = np.ptp(x[idx]) >= np.ptp(y[idx])
        coordinate = x[idx] if wide else y[idx]
        order = idx[np.argsort(coordinate, kind="stable")]
        cumulative = np.cumsum(weight[order])
        cut = int(np.searchsorted(cumulative, cumulative[-1] * left_parts / parts)) + 1
        cut = min(max(cut, left_parts), len(order) - (parts - left_parts))
        stack.append((order[cut:], parts - left_parts, first_label + left_parts))
        stack.append((order[:cut], left_parts, first_label))
    return labels
