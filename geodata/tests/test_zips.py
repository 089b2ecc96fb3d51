import numpy as np
import pytest
import shapely
from territory_geodata import load_zip_lookup
from territory_geodata.zips import normalize_zip


def test_zip_points_are_the_standard_zips_of_the_50_states_and_dc(zips):
    assert 31_500 < len(zips) < 32_200
    assert len(np.unique(zips.zip)) == len(zips)
    assert set(zips.state.tolist()) >= {"NC", "CA", "DC", "AK", "HI"} and "PR" not in set(zips.state.tolist())
    assert not np.isnan(zips.lat).any() and not np.isnan(zips.median_income).any()
    assert zips.population.sum() > 300_000_000


def test_zip_27601_resolves_to_raleigh_inside_wake_county(cache_dir, counties):
    location = load_zip_lookup(cache_dir).resolve("27601")
    assert location is not None
    assert location.precision == "zip-centroid" and location.state == "NC" and location.county_fips == "37183"
    wake = counties.geometries[counties.index_of("37183")]
    assert wake.contains(shapely.Point(location.lon, location.lat))


def test_the_lookup_accepts_zip_plus_4_and_lost_leading_zeros(cache_dir):
    lookup = load_zip_lookup(cache_dir)
    assert lookup.resolve("27601-1234").zip == "27601"
    assert lookup.resolve(2134).zip == "02134"
    assert lookup.resolve("00000") is None and lookup.resolve("hello") is None
    assert "27601" in lookup


@pytest.mark.parametrize(
    ("raw", "expected"), [("27601", "27601"), (" 27601-0001", "27601"), ("501", "00501"), ("123456", None), ("", None)]
)
def test_normalize_zip(raw, expected):
    assert normalize_zip(raw) == expected


def test_every_zip_joins_a_county_and_most_points_fall_inside_it(zips, counties):
    own = np.searchsorted(counties.ids, zips.county_fips)
    assert (counties.ids[own] == zips.county_fips).all()
    inside = shapely.contains_xy(counties.geometries[own], zips.lon, zips.lat)
    assert inside.mean() > 0.97
