import os
from pathlib import Path

import numpy as np
import pytest
import shapely
from territory_geodata import counties as counties_module
from territory_geodata import load_county_population, load_us_counties, load_us_states, load_zip_points
from territory_geodata.counties import FALLS_CHURCH


def test_there_are_3142_counties_of_the_50_states_and_dc(counties):
    assert len(counties) == 3142
    assert len(np.unique(counties.ids)) == 3142
    assert len(np.unique(counties.state_fips)) == 51
    assert not np.isin(counties.state_fips, ["60", "66", "69", "72", "78"]).any()


def test_north_carolina_has_100_counties(counties):
    nc = counties.in_states("37")
    assert len(nc) == 100
    assert set(nc.state_abbr.tolist()) == {"NC"} and set(nc.state_name.tolist()) == {"North Carolina"}


def test_the_contiguous_us_is_the_lower_48_and_dc(counties):
    lower48 = counties.contiguous()
    assert len(lower48) == 3108
    assert len(np.unique(lower48.state_fips)) == 49


def test_every_county_geometry_is_valid_non_empty_and_polygonal(counties):
    g = counties.geometries
    assert shapely.is_valid(g).all()
    assert not shapely.is_empty(g).any()
    assert set(shapely.get_type_id(g).tolist()) <= {shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON}
    assert (shapely.area(g) > 0).all()


def test_every_county_joins_a_population(counties):
    assert (counties.population > 0).all()
    assert counties.population.sum() == 328_239_523  # the Census estimate for July 2019, 50 states + DC
    assert (counties.potential > 0).all() and not np.isnan(counties.income).any()


def test_falls_church_has_a_small_shape_carved_out_of_its_neighbours(counties):
    falls_church = counties.geometries[counties.index_of(FALLS_CHURCH)]
    fairfax = counties.geometries[counties.index_of("51059")]
    arlington = counties.geometries[counties.index_of("51013")]
    assert 0 < falls_church.area < 0.001
    assert falls_church.intersection(fairfax).area < 1e-12 and falls_church.intersection(arlington).area < 1e-12
    assert falls_church.touches(fairfax)
    assert counties.population[counties.index_of(FALLS_CHURCH)] > 10_000


def test_raleigh_is_in_wake_county(counties):
    wake = counties.geometries[counties.index_of("37183")]
    assert counties.names[counties.index_of("37183")] == "Wake"
    assert wake.contains(shapely.Point(-78.6382, 35.7796))


def test_the_states_layer_has_the_50_states_and_dc(states, counties):
    assert len(states) == 51
    assert shapely.is_valid(states.geometries).all()
    nc = states.geometries[states.ids == "37"][0]
    nc_counties = shapely.union_all(counties.in_states("37").geometries)
    assert nc.symmetric_difference(nc_counties).area / nc.area < 1e-6


LOADERS = {
    "population.npz": load_county_population,
    "zip_points.npz": load_zip_points,
    "states.npz": load_us_states,
    "counties.npz": load_us_counties,
}


@pytest.mark.parametrize("filename", list(LOADERS))
def test_a_second_call_does_not_rebuild(cold_cache: Path, filename, monkeypatch):
    load = LOADERS[filename]
    load(cold_cache)
    built = cold_cache / filename
    stamp = built.stat().st_mtime_ns
    monkeypatch.setattr(counties_module, "_build_counties", lambda root: pytest.fail("counties rebuilt"))
    monkeypatch.setattr(counties_module, "_build_states", lambda root: pytest.fail("states rebuilt"))
    again = load(cold_cache)
    assert built.stat().st_mtime_ns == stamp
    assert len(again.population if hasattr(again, "population") else again.ids) > 0


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    from territory_geodata.cache import CACHE_TAG, cache_root

    monkeypatch.setenv("TERRITORY_CACHE_DIR", str(tmp_path))
    assert cache_root() == tmp_path / "geodata" / CACHE_TAG
    assert cache_root(tmp_path / "x") == tmp_path / "x"
    assert os.path.isdir(tmp_path / "x")
