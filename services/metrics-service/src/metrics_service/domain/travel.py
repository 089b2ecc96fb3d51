"""Travel proxy: distance from the reps' homes to the territory's accounts, weighted by potential."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Rep:
    rep_id: str
    home_lon: float | None
    home_lat: float | None
    capacity_hours: float


def haversine_km(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    km: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return km


def travel_from_homes(reps: Sequence[Rep], points: np.ndarray, weights: np.ndarray) -> tuple[float, float] | None:
    """(weighted mean, max) km from each point to the nearest rep home; None without homes or points.

    Points are where the accounts are (per unit: the unit's centroid); a point of zero weight is skipped.
    """
    homes = np.array([(r.home_lon, r.home_lat) for r in reps if r.home_lon is not None and r.home_lat is not None])
    keep = np.asarray(weights) > 0
    if len(homes) == 0 or not keep.any():
        return None
    pts, w = np.asarray(points)[keep], np.asarray(weights, dtype=float)[keep]
    d = haversine_km(pts[:, None, 0], pts[:, None, 1], homes[None, :, 0], homes[None, :, 1]).min(axis=1)
    return float((d * w).sum() / w.sum()), float(d.max())
