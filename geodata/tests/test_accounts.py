import numpy as np
import pytest
import shapely
from territory_geodata import Accounts, synthesize_accounts
from territory_geodata.accounts import INDUSTRIES, SIZE_CLASSES


@pytest.fixture(scope="module")
def accounts(zips, counties) -> Accounts:
    return synthesize_accounts(zips, counties, n=20_000, seed=42)


def test_every_account_is_inside_the_us_shape(accounts, states):
    us = shapely.union_all(states.geometries)
    shapely.prepare(us)
    assert accounts.inside_us.all()
    assert shapely.contains_xy(us, accounts.lon, accounts.lat).all()


def test_every_account_lies_in_its_county(accounts, counties):
    shapes = counties.geometries[np.searchsorted(counties.ids, accounts.county_fips)]
    assert shapely.contains_xy(shapes, accounts.lon, accounts.lat).all()


def test_accounts_stay_within_a_few_km_of_their_zip(accounts, zips):
    z = np.searchsorted(zips.zip, accounts.zip)
    assert (zips.zip[z] == accounts.zip).all()
    km = 111.32 * np.hypot(accounts.lat - zips.lat[z], (accounts.lon - zips.lon[z]) * np.cos(np.radians(zips.lat[z])))
    assert np.quantile(km, 0.99) <= 2.01


def test_the_same_seed_gives_the_same_accounts_and_another_seed_others(zips, counties, accounts):
    again = synthesize_accounts(zips, counties, n=20_000, seed=42)
    other = synthesize_accounts(zips, counties, n=20_000, seed=43)
    for name in ("external_id", "name", "lat", "lon", "zip", "industry", "potential", "workload_hours"):
        assert np.array_equal(getattr(accounts, name), getattr(again, name)), name
    assert not np.array_equal(accounts.lat, other.lat)
    assert not np.array_equal(accounts.name, other.name)


def test_accounts_follow_population(accounts):
    states, counts = np.unique(accounts.state, return_counts=True)
    share = dict(zip(states.tolist(), (counts / counts.sum()).tolist(), strict=True))
    assert share["CA"] > 0.09 and share["TX"] > 0.06 and share.get("WY", 0) < 0.005


def test_the_mix_of_industries_and_sizes_is_realistic(accounts):
    assert set(accounts.industry.tolist()) == set(INDUSTRIES.tolist())
    sizes, counts = np.unique(accounts.size_class, return_counts=True)
    share = dict(zip(sizes.tolist(), (counts / counts.sum()).tolist(), strict=True))
    assert set(share) == set(SIZE_CLASSES.tolist())
    assert share["S"] > share["M"] > share["L"] > share["XL"] > 0.01
    median = {s: np.median(accounts.potential[accounts.size_class == s]) for s in SIZE_CLASSES.tolist()}
    assert median["S"] < median["M"] < median["L"] < median["XL"]


def test_revenue_visits_and_workload_are_consistent(accounts):
    assert (accounts.revenue[accounts.status == "prospect"] == 0).all()
    assert (accounts.revenue <= accounts.potential).all()
    assert (accounts.visits_per_year >= 1).all() and (accounts.workload_hours > 0).all()
    assert len(np.unique(accounts.external_id)) == len(accounts)
