import numpy as np
from territory_geodata.potential import INCOME_ELASTICITY, county_income, market_potential


def test_potential_equals_population_at_the_national_income_and_grows_faster_than_income():
    population = np.array([1000, 1000, 1000])
    income = np.array([50_000.0, 100_000.0, 25_000.0])
    potential = market_potential(population, income, reference_income=50_000.0)
    assert potential.tolist() == [1000, round(1000 * 2**INCOME_ELASTICITY), round(1000 * 0.5**INCOME_ELASTICITY)]


def test_county_income_is_population_weighted_and_falls_back_to_the_state():
    income = county_income(
        county_ids=np.array(["37001", "37003", "37005"]),
        county_state=np.array(["37", "37", "37"]),
        zip_county=np.array(["37001", "37001", "37003"]),
        zip_population=np.array([300, 100, 50]),
        zip_income=np.array([40_000.0, 80_000.0, 60_000.0]),
    )
    assert income[0] == 50_000.0  # (300 x 40k + 100 x 80k) / 400
    assert income[1] == 60_000.0
    assert income[2] == (300 * 40_000 + 100 * 80_000 + 50 * 60_000) / 450  # no ZIP: the state's mean


def test_the_us_potential_is_close_to_the_us_population(counties):
    assert 0.9 < counties.potential.sum() / counties.population.sum() < 1.15
