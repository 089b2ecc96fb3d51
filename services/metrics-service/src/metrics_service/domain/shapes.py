"""Shape metrics of a territory from its units' equal-area geometry: area, Polsby-Popper, parts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class ShapeMetrics:
    area_km2: float
    perimeter_km: float
    polsby_popper: float  # 4 pi A / P^2 of the dissolved territory; 0 when empty
    parts: int  # polygons of the dissolved territory: 1 = contiguous, 0 = no units

    @classmethod
    def empty(cls) -> ShapeMetrics:
        return cls(0.0, 0.0, 0.0, 0)


def dissolve(projected: np.ndarray | list[BaseGeometry]) -> BaseGeometry | None:
    """The union of equal-area geometries (metres); None when there are none."""
    parts = [g for g in projected if g is not None and not g.is_empty]
    return shapely.union_all(parts) if parts else None


def shape_metrics(projected: np.ndarray) -> ShapeMetrics:
    """Dissolve equal-area unit geometries (metres) and measure the result."""
    return measure(dissolve(projected))


def measure(union: BaseGeometry | None) -> ShapeMetrics:
    if union is None or union.is_empty:
        return ShapeMetrics.empty()
    area, perimeter = float(union.area), float(union.length)
    parts = int(shapely.get_num_geometries(union)) if union.geom_type == "MultiPolygon" else int(not union.is_empty)
    pp = 4.0 * math.pi * area / perimeter**2 if perimeter > 0 else 0.0
    return ShapeMetrics(area / 1e6, perimeter / 1e3, pp, parts)
