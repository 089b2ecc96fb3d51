"""A unit layer as metrics-service holds it: unit ids, numeric values per unit, equal-area geometry.

Values are a column per metric: the layer's unit attributes (population, potential, ...) and, when
accounts are known, the per-unit account aggregates (``ACCOUNT_METRICS`` and custom numeric fields).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from territory_shared.geometry import to_equal_area

# Per-unit sums of the accounts located in the unit (see ``accounts.py``).
ACCOUNT_METRICS = ("account_count", "account_potential", "account_revenue", "workload_hours", "visits")


@dataclass
class LayerData:
    layer_id: str
    unit_ids: np.ndarray  # object (str), in the layer's order
    metrics: list[str]
    values: np.ndarray  # (units, metrics) float
    geometries: np.ndarray  # equal-area (metres)
    centroids: np.ndarray  # (units, 2) lon/lat
    crs: Any = None  # the equal-area CRS of ``geometries``
    lonlat: np.ndarray | None = None  # the geometries as imported (EPSG:4326), where points are located
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tree: Any = None
        self._rank: np.ndarray = np.zeros(0, dtype=np.int64)
        self.index = {u: i for i, u in enumerate(self.unit_ids.tolist())}
        self.column = {m: j for j, m in enumerate(self.metrics)}

    def __len__(self) -> int:
        return len(self.unit_ids)

    @classmethod
    def build(
        cls,
        layer_id: str,
        unit_ids: Sequence[str],
        attributes: Sequence[Mapping[str, float]],
        lonlat_geometries: Sequence[shapely.Geometry] | np.ndarray,
        attribute_names: Sequence[str] | None = None,
    ) -> LayerData:
        names = list(attribute_names) if attribute_names is not None else sorted({k for a in attributes for k in a})
        values = np.array([[float(a.get(n) or 0.0) for n in names] for a in attributes], dtype=float).reshape(
            len(unit_ids), len(names)
        )
        geoms = np.asarray(lonlat_geometries, dtype=object)
        projected, crs = to_equal_area(geoms) if len(geoms) else (geoms, None)
        centroids = shapely.get_coordinates(shapely.centroid(geoms)) if len(geoms) else np.zeros((0, 2))
        return cls(layer_id, np.asarray(list(unit_ids), dtype=object), names, values, projected, centroids, crs, geoms)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the unit that holds each point, or -1.

        As geo-service locates: in lon/lat (an equal-area projection bends straight lon/lat edges, moving
        points that lie near a border into the neighbour), and a point that two units hold (on a shared border)
        goes to the unit with the smallest id.
        """
        out = np.full(len(lon), -1, dtype=np.int64)
        if len(lon) == 0 or len(self) == 0:
            return out
        if self._tree is None:
            geoms = self.lonlat if self.lonlat is not None else self.geometries
            self._tree = shapely.STRtree(geoms)
            self._rank = np.argsort(np.argsort(self.unit_ids.astype(str)))
        if self.lonlat is None:  # a layer built without its lon/lat shapes: query in its projection
            lon, lat = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True).transform(lon, lat)
        points, units = self._tree.query(shapely.points(lon, lat), predicate="intersects")
        # Per point, the holder with the smallest id: sorted by point then id, the first row of each point.
        order = np.lexsort((self._rank[units], points))
        points, units = points[order], units[order]
        first = np.ones(len(points), dtype=bool)
        first[1:] = points[1:] != points[:-1]
        out[points[first]] = units[first]
        return out

    def with_sums(self, names: Sequence[str], sums: np.ndarray) -> LayerData:
        """A copy whose values also hold per-unit sums (e.g. of accounts): ``sums`` is (units, names)."""
        extra = [n for n in names if n not in self.metrics]
        values = np.zeros((len(self), len(self.metrics) + len(extra)))
        values[:, : len(self.metrics)] = self.values
        cols = {m: j for j, m in enumerate([*self.metrics, *extra])}
        for k, n in enumerate(names):
            values[:, cols[n]] = sums[:, k]
        return LayerData(
            self.layer_id,
            self.unit_ids,
            [*self.metrics, *extra],
            values,
            self.geometries,
            self.centroids,
            self.crs,
            self.lonlat,
        )
