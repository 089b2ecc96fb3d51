"""US counties (3,142: the 50 states + DC) and states (51) from npm ``us-atlas@3.0.1`` ``counties-10m.json``.

Geometries are Shapely (Multi)Polygons in lon/lat (EPSG:4326, exterior rings counter-clockwise), all valid,
non-empty and polygonal. Project before measuring (EPSG:5070 for the lower 48): degrees are not a unit of area.
Aleutians West (02016) crosses the antimeridian: its parts lie near -180 and +180.

Falls Church, VA (51610) is empty at this resolution. It is given a small shape: a disc of its real land area
(5.3 km2, radius 1.3 km) around its real location, carved out of the counties it overlaps (Fairfax 51059, and
Arlington 51013 if touched), so the counties still tile without gaps or overlaps and it keeps its own population.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pyproj
import shapely

from .cache import cache_root, cached_arrays, pack_geometries, unpack_geometries
from .population import load_county_population
from .potential import county_income, market_potential, national_income
from .sources import US_ATLAS_COUNTIES, npm_file
from .topojson import decode_features
from .zips import TERRITORY_STATE_FIPS, load_zip_points

FALLS_CHURCH = "51610"
FALLS_CHURCH_LONLAT = (-77.1750, 38.8847)  # approximately the Census internal point
FALLS_CHURCH_LAND_M2 = 5.31e6  # 2.05 sq mi
ALASKA, HAWAII = "02", "15"


@dataclass(frozen=True)
class Counties:
    """Columnar counties, sorted by FIPS. ``geometries`` is a Shapely array aligned with the other arrays."""

    ids: np.ndarray  # <U5 FIPS
    names: np.ndarray
    state_fips: np.ndarray  # <U2
    state_abbr: np.ndarray  # <U2
    state_name: np.ndarray
    region: np.ndarray  # Census region: Northeast, Midwest, South, West
    geometries: np.ndarray
    population: np.ndarray  # int64, Census estimate July 2019
    income: np.ndarray  # float64, population-weighted ZIP median household income (USD, ACS 2022)
    potential: np.ndarray  # int64, see territory_geodata.potential

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> Counties:
        """The counties at ``index`` (an integer index or a boolean mask)."""
        return Counties(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def in_states(self, *state_fips: str) -> Counties:
        return self.take(np.isin(self.state_fips, state_fips))

    def contiguous(self) -> Counties:
        """The lower 48 + DC (3,108 counties): without Alaska and Hawaii."""
        return self.take(~np.isin(self.state_fips, [ALASKA, HAWAII]))

    def index_of(self, fips: str) -> int:
        i = int(np.searchsorted(self.ids, fips))
        if i == len(self.ids) or self.ids[i] != fips:
            raise KeyError(fips)
        return i


@dataclass(frozen=True)
class States:
    ids: np.ndarray  # <U2 state FIPS, sorted
    names: np.ndarray
    abbr: np.ndarray
    region: np.ndarray
    geometries: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> States:
        return States(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def load_us_counties(cache_dir: str | Path | None = None) -> Counties:
    """The 3,142 counties of the 50 states + DC with population, income and potential (cached: ``counties.npz``)."""
    root = cache_root(cache_dir)
    arrays = cached_arrays(root / "counties.npz", lambda: _build_counties(root))
    return Counties(
        geometries=unpack_geometries(arrays),
        **{f.name: arrays[f.name] for f in fields(Counties) if f.name != "geometries"},
    )


def load_us_states(cache_dir: str | Path | None = None) -> States:
    """The 50 states + DC (cached: ``states.npz``), for backgrounds and clipping."""
    root = cache_root(cache_dir)
    arrays = cached_arrays(root / "states.npz", lambda: _build_states(root))
    return States(
        geometries=unpack_geometries(arrays),
        **{f.name: arrays[f.name] for f in fields(States) if f.name != "geometries"},
    )


def _topology(root: Path) -> dict:
    with open(npm_file(US_ATLAS_COUNTIES, root / "inputs"), encoding="utf-8") as f:
        return json.load(f)


def _state_abbreviations(cache_dir: Path) -> dict[str, str]:
    # A few ZIPs cross a state line (their county is in another state): take each state FIPS's commonest abbr.
    zips = load_zip_points(cache_dir)
    pairs, counts = np.unique(np.char.add(zips.county_fips.astype("U2"), zips.state), return_counts=True)
    abbr: dict[str, str] = {}
    for pair in pairs[np.argsort(counts, kind="stable")].tolist():  # commonest last, so it wins
        abbr[pair[:2]] = pair[2:]
    return abbr


def _build_counties(root: Path) -> dict[str, np.ndarray]:
    features = decode_features(_topology(root), "counties")
    ids = np.array(features.ids, dtype="U5")
    keep = ~np.isin(ids.astype("U2"), list(TERRITORY_STATE_FIPS))
    order = np.argsort(ids[keep], kind="stable")
    ids = ids[keep][order]
    names = np.array([p.get("name", "") for p in features.properties], dtype=object)[keep][order].astype(str)
    geometries = polygonal(features.geometries[keep][order])
    geometries = _give_falls_church_a_shape(ids, geometries)
    state_fips = ids.astype("U2")

    population_table = load_county_population(root)
    population = population_table.lookup(ids)
    region = population_table.region[np.searchsorted(population_table.fips, ids)]
    abbr = _state_abbreviations(root)
    states = load_us_states(root)
    zips = load_zip_points(root)
    income = county_income(ids, state_fips, zips.county_fips, zips.population, zips.median_income)
    potential = market_potential(population, income, national_income(population, income))
    return {
        "ids": ids,
        "names": names,
        "state_fips": state_fips,
        "state_abbr": np.array([abbr[s] for s in state_fips.tolist()], dtype="U2"),
        "state_name": states.names[np.searchsorted(states.ids, state_fips)],
        "region": region,
        "population": population,
        "income": income,
        "potential": potential,
        **pack_geometries(geometries),
    }


def _build_states(root: Path) -> dict[str, np.ndarray]:
    features = decode_features(_topology(root), "states")
    ids = np.array(features.ids, dtype="U2")
    keep = ~np.isin(ids, list(TERRITORY_STATE_FIPS))
    order = np.argsort(ids[keep], kind="stable")
    ids = ids[keep][order]
    names = np.array([p.get("name", "") for p in features.properties], dtype=object)[keep][order].astype(str)
    population_table = load_county_population(root)
    region_of = dict(
        zip((f[:2] for f in population_table.fips.tolist()), population_table.region.tolist(), strict=False)
    )
    abbr = _state_abbreviations(root)
    return {
        "ids": ids,
        "names": names,
        "abbr": np.array([abbr[s] for s in ids.tolist()], dtype="U2"),
        "region": np.array([region_of[s] for s in ids.tolist()]),
        **pack_geometries(polygonal(features.geometries[keep][order])),
    }


def polygonal(geometries: np.ndarray) -> np.ndarray:
    """Valid, polygonal, counter-clockwise geometries; a one-part MultiPolygon becomes a Polygon."""
    geometries = geometries.copy()
    invalid = ~shapely.is_valid(geometries)
    # 'structure' keeps areas only (no stray lines or points from collapsed spikes).
    geometries[invalid] = shapely.make_valid(geometries[invalid], method="structure", keep_collapsed=False)
    collections = shapely.get_type_id(geometries) == shapely.GeometryType.GEOMETRYCOLLECTION
    for i in np.flatnonzero(collections):
        parts = shapely.get_parts(geometries[i])
        parts = parts[
            np.isin(shapely.get_type_id(parts), [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
        ]
        geometries[i] = shapely.union_all(parts)
    single = (shapely.get_type_id(geometries) == shapely.GeometryType.MULTIPOLYGON) & (
        shapely.get_num_geometries(geometries) == 1
    )
    geometries[single] = shapely.get_geometry(geometries[single], 0)
    return shapely.orient_polygons(geometries, exterior_cw=False)


def disc(lon: float, lat: float, radius_m: float) -> shapely.Polygon:
    """A circle of ``radius_m`` metres on the ground, as a lon/lat polygon."""
    local = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    to_lonlat = pyproj.Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    circle = shapely.Point(0, 0).buffer(radius_m, quad_segs=8)
    return shapely.transform(circle, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))


def _give_falls_church_a_shape(ids: np.ndarray, geometries: np.ndarray) -> np.ndarray:
    i = int(np.searchsorted(ids, FALLS_CHURCH))
    if ids[i] != FALLS_CHURCH or not shapely.is_empty(geometries[i]):
        return geometries
    circle = disc(*FALLS_CHURCH_LONLAT, radius_m=float(np.sqrt(FALLS_CHURCH_LAND_M2 / np.pi)))
    geometries = geometries.copy()
    hosts = [j for j in np.flatnonzero(shapely.intersects(geometries, circle)) if j != i]
    geometries[i] = shapely.union_all([shapely.intersection(geometries[j], circle) for j in hosts])
    for j in hosts:
        geometries[j] = shapely.difference(geometries[j], circle)
    return polygonal(geometries)
