import numpy as np
import pytest
from territory_geodata import place_reps, synthesize_accounts
from territory_geodata.reps import cities_from_zips


@pytest.fixture(scope="module")
def accounts(zips, counties):
    return synthesize_accounts(zips, counties, n=20_000, seed=42)


def test_reps_live_in_real_cities_where_the_potential_is(accounts, zips):
    reps = place_reps(accounts, zips, n=50, seed=42)
    assert len(reps) == 50 and len(np.unique(reps.external_id)) == 50
    assert np.isin(reps.home_zip, zips.zip).all()
    state, count = np.unique(reps.home_state, return_counts=True)
    per_state = dict(zip(state.tolist(), count.tolist(), strict=True))
    assert per_state["CA"] >= 3 and per_state.get("WY", 0) == 0
    assert (reps.capacity_hours == 1600).all()
    assert set(reps.role.tolist()) == {"Account Executive", "Senior Account Executive"}


def test_reps_are_deterministic_by_seed(accounts, zips):
    a, b = place_reps(accounts, zips, 20, seed=1), place_reps(accounts, zips, 20, seed=1)
    assert np.array_equal(a.name, b.name) and np.array_equal(a.home_zip, b.home_zip)


def test_city_sections_are_not_cities(zips):
    cities = cities_from_zips(zips)
    names = set(zip(cities.name.tolist(), cities.state.tolist(), strict=True))
    assert ("Chicago", "IL") in names and ("Raleigh", "NC") in names
    assert ("Flushing", "NY") not in names  # a section of Queens, next to Brooklyn
