"""Market potential of a county, from its population and the median household income of its ZIPs.

    income(county)    = population-weighted mean of the county's ZIP median household incomes (ACS 2022)
                        (a county without ZIP data takes its state's value)
    potential(county) = population(county) x (income(county) / income(US)) ** 1.5

``income(US)`` is the population-weighted mean over all counties, so a county at the national income has a
potential equal to its population and the US total is close to the US population. The exponent 1.5 (> 1) says
that spending on a B2B/B2C offer grows faster than income (the discretionary share rises with income). The unit is
"income-adjusted people": compare potentials, do not read them as dollars.
"""

from __future__ import annotations

import numpy as np

INCOME_ELASTICITY = 1.5


def county_income(
    county_ids: np.ndarray,
    county_state: np.ndarray,
    zip_county: np.ndarray,
    zip_population: np.ndarray,
    zip_income: np.ndarray,
) -> np.ndarray:
    """Population-weighted mean ZIP median income per county; counties without ZIPs get their state's mean."""
    index = {fips: i for i, fips in enumerate(county_ids.tolist())}
    pos = np.array([index.get(c, -1) for c in zip_county.tolist()], dtype=np.int64)
    ok = pos >= 0
    weight = np.maximum(zip_population[ok], 1).astype(np.float64)
    total_w = np.bincount(pos[ok], weight, len(county_ids))
    total_v = np.bincount(pos[ok], weight * zip_income[ok], len(county_ids))
    income = np.divide(total_v, total_w, out=np.full(len(county_ids), np.nan), where=total_w > 0)
    if np.isnan(income).any():
        states, inverse = np.unique(county_state, return_inverse=True)
        has = ~np.isnan(income)
        state_w = np.bincount(inverse[has], total_w[has], len(states))
        state_v = np.bincount(inverse[has], total_v[has], len(states))
        state_mean = np.divide(state_v, state_w, out=np.full(len(states), np.nan), where=state_w > 0)
        income = np.where(np.isnan(income), state_mean[inverse], income)
    return income


def national_income(population: np.ndarray, income: np.ndarray) -> float:
    return float(np.average(income, weights=population))


def market_potential(population: np.ndarray, income: np.ndarray, reference_income: float) -> np.ndarray:
    """Income-adjusted population, rounded to whole "people" (see the module docstring)."""
    return np.rint(population * (income / reference_income) ** INCOME_ELASTICITY).astype(np.int64)
