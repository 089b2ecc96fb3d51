"""The web map's bundled city names are what the builder makes from the installed data."""

from __future__ import annotations

from pathlib import Path

from territory_geodata.basemap import CITY_COUNT, cities_json, largest_cities

WEB_CITIES = Path(__file__).resolve().parents[2] / "web" / "src" / "data" / "cities.json"


def test_the_bundled_cities_file_is_the_builders_output():
    assert WEB_CITIES.read_text(encoding="utf-8") == cities_json(), "run python -m territory_geodata.basemap"


def test_the_largest_cities_come_once_each_with_new_york_whole_and_first():
    cities = largest_cities()
    assert len(cities) == CITY_COUNT
    names = [(c["name"], c["state"]) for c in cities]
    assert len(set(names)) == CITY_COUNT
    assert names[0] == ("New York", "NY")
    assert ("Brooklyn", "NY") not in names and ("Los Angeles", "CA") in names[:5]
    assert all(c["population"] >= cities[-1]["population"] for c in cities)
