"""Real boundaries for the tests: North Carolina's 100 counties (libpysal ``sids2``) and US counties (us-atlas)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import libpysal
import numpy as np
from territory_geodata.counties import load_us_counties
from territory_geodata.files import write_geojson

# Wake County (Raleigh) and the counties that share a border with it in sids2; Nash only touches it at a
# corner at this resolution, so it is a neighbour by queen contiguity only.
WAKE = "37183"
WAKE_NEIGHBOURS = {"37063", "37077", "37069", "37101", "37085", "37037"}
NASH = "37127"
RALEIGH = (-78.6382, 35.7796)


def nc_shapefile_zip(folder: Path) -> Path:
    shp = Path(libpysal.examples.get_path("sids2.shp"))
    out = folder / "sids2.zip"
    with zipfile.ZipFile(out, "w") as z:
        for suffix in (".shp", ".shx", ".dbf"):
            z.write(shp.with_suffix(suffix), f"sids2{suffix}")
    return out


def us_counties_geojson(folder: Path) -> Path:
    counties = load_us_counties()
    out = folder / "us-counties.geojson"
    write_geojson(
        out,
        counties.ids,
        {"fips": counties.ids, "population": counties.population, "potential": counties.potential},
        counties.geometries,
    )
    return out


def feature_collection(features: list[dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def square(x: float, y: float, size: float = 1.0) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def many_vertices_ring(n: int) -> list[list[list[float]]]:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = [[float(10 + np.cos(a)), float(10 + np.sin(a))] for a in angles]
    return [ring + [ring[0]]]
