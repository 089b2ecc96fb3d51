"""The file layout of each dataset (columns and types), shared by the demo build and the NC fixture."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np

from .accounts import Accounts
from .alignment import Alignment
from .counties import Counties, States, polygonal
from .files import read_csv, read_geojson, write_csv, write_geojson
from .reps import Reps
from .zips import ZipPoints

ACCOUNT_TYPES: dict[str, type] = {
    "external_id": str,
    "name": str,
    "lat": float,
    "lon": float,
    "zip": str,
    "county_fips": str,
    "state": str,
    "industry": str,
    "size_class": str,
    "status": str,
    "potential": int,
    "revenue": int,
    "visits_per_year": int,
    "workload_hours": float,
    "inside_us": bool,
}
REP_TYPES: dict[str, type] = {
    "external_id": str,
    "name": str,
    "home_lat": float,
    "home_lon": float,
    "home_city": str,
    "home_state": str,
    "home_zip": str,
    "capacity_hours": float,
    "role": str,
}
ZIP_TYPES: dict[str, type] = {
    "zip": str,
    "lat": float,
    "lon": float,
    "population": int,
    "households": int,
    "median_income": float,
    "income_imputed": bool,
    "county_fips": str,
    "state": str,
    "primary_city": str,
}


def write_counties(path: Path, counties: Counties) -> None:
    """GeoJSON: id = FIPS; name, state (postal), state_fips, state_name, region, population, income, potential."""
    write_geojson(
        path,
        counties.ids,
        {
            "name": counties.names,
            "state": counties.state_abbr,
            "state_fips": counties.state_fips,
            "state_name": counties.state_name,
            "region": counties.region,
            "population": counties.population,
            "income": np.rint(counties.income).astype(np.int64),
            "potential": counties.potential,
        },
        counties.geometries,
    )


def read_counties(path: Path) -> Counties:
    ids, props, geometries = read_geojson(path)
    return Counties(
        ids=ids.astype("U5"),
        names=np.array(props["name"]),
        state_fips=np.array(props["state_fips"], dtype="U2"),
        state_abbr=np.array(props["state"], dtype="U2"),
        state_name=np.array(props["state_name"]),
        region=np.array(props["region"]),
        geometries=polygonal(geometries),
        population=np.array(props["population"], dtype=np.int64),
        income=np.array(props["income"], dtype=np.float64),
        potential=np.array(props["potential"], dtype=np.int64),
    )


def write_states(path: Path, states: States) -> None:
    write_geojson(
        path, states.ids, {"name": states.names, "abbr": states.abbr, "region": states.region}, states.geometries
    )


def write_zip_points(path: Path, zips: ZipPoints) -> None:
    write_csv(path, {name: getattr(zips, name) for name in ZIP_TYPES})


def read_zip_points(path: Path) -> ZipPoints:
    columns = read_csv(path, ZIP_TYPES)
    return ZipPoints(**{f.name: columns[f.name] for f in fields(ZipPoints)})


def write_accounts(path: Path, accounts: Accounts) -> None:
    write_csv(path, {name: getattr(accounts, name) for name in ACCOUNT_TYPES})


def read_accounts(path: Path) -> Accounts:
    return Accounts(**read_csv(path, ACCOUNT_TYPES))


def write_reps(path: Path, reps: Reps) -> None:
    write_csv(path, {name: getattr(reps, name) for name in REP_TYPES})


def read_reps(path: Path) -> Reps:
    return Reps(**read_csv(path, REP_TYPES))


def write_alignment(alignment_path: Path, territories_path: Path, alignment: Alignment) -> None:
    """``alignment.csv``: unit_id, territory_code (units in the market gap are absent);
    ``territories.csv``: the region > territory hierarchy (code, name, level, parent_code, states)."""
    write_csv(alignment_path, {"unit_id": alignment.unit_ids, "territory_code": alignment.territory_codes})
    rows = [(code, name, "region", "", "") for code, name in alignment.regions]
    rows += [(t.code, t.name, "territory", t.region_code, " ".join(t.states)) for t in alignment.territories]
    write_csv(
        territories_path,
        {
            name: np.array([row[i] for row in rows], dtype=object)
            for i, name in enumerate(["code", "name", "level", "parent_code", "states"])
        },
    )


def read_alignment(alignment_path: Path, territories_path: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(unit_id -> territory_code, the rows of territories.csv)."""
    pairs = read_csv(alignment_path, {"unit_id": str, "territory_code": str})
    rows = read_csv(territories_path, {"code": str, "name": str, "level": str, "parent_code": str, "states": str})
    table = [dict(zip(rows, values, strict=True)) for values in zip(*(rows[k].tolist() for k in rows), strict=True)]
    return dict(zip(pairs["unit_id"].tolist(), pairs["territory_code"].tolist(), strict=True)), table
