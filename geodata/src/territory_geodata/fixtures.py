"""The small committed North Carolina fixture, for fast offline tests of any component.

``fixtures/nc/`` holds North Carolina's 100 counties (with population, income and potential), its ZIP points,
3,000 synthetic accounts, 10 reps and a 10-territory starting alignment, all made by ``build_nc_fixture()`` from
the same builders as the demo (fixed seed), so a test can check that the committed files are what the builder
produces. ``load_nc_fixture()`` reads them without network or cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from .accounts import Accounts, synthesize_accounts
from .alignment import starting_alignment
from .cache import atomic_write_bytes
from .counties import Counties, load_us_counties
from .demo import input_checksums
from .reps import Reps, place_reps
from .tables import (
    read_accounts,
    read_alignment,
    read_counties,
    read_reps,
    read_zip_points,
    write_accounts,
    write_alignment,
    write_counties,
    write_reps,
    write_zip_points,
)
from .zips import ZipPoints, load_zip_points

NC_STATE_FIPS = "37"
NC_ACCOUNTS = 3_000
NC_REPS = 10
NC_TERRITORIES = 10
NC_SEED = 42
FIXTURE_FILES = (
    "counties.geojson",
    "zip_points.csv",
    "accounts.csv",
    "reps.csv",
    "alignment.csv",
    "territories.csv",
    "fixture.json",
)


@dataclass(frozen=True)
class NCFixture:
    counties: Counties  # 100
    zips: ZipPoints
    accounts: Accounts  # 3,000
    reps: Reps  # 10
    alignment: dict[str, str]  # county FIPS -> territory code (the market-gap counties around Raleigh are absent)
    territories: list[dict[str, str]]  # rows of territories.csv: code, name, level, parent_code, states


def fixture_dir() -> Path:
    # A data folder beside this module, not a package: it must never get an __init__.py.
    return Path(str(files("territory_geodata").joinpath("fixtures", "nc")))


def load_nc_fixture(path: str | Path | None = None) -> NCFixture:
    """The committed North Carolina fixture (no network, no cache)."""
    folder = Path(path) if path is not None else fixture_dir()
    alignment, territories = read_alignment(folder / "alignment.csv", folder / "territories.csv")
    return NCFixture(
        counties=read_counties(folder / "counties.geojson"),
        zips=read_zip_points(folder / "zip_points.csv"),
        accounts=read_accounts(folder / "accounts.csv"),
        reps=read_reps(folder / "reps.csv"),
        alignment=alignment,
        territories=territories,
    )


def build_nc_fixture(out_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """(Re)make the NC fixture files in ``out_dir`` (default: the package's ``fixtures/nc``)."""
    out = Path(out_dir) if out_dir is not None else fixture_dir()
    out.mkdir(parents=True, exist_ok=True)
    counties = load_us_counties(cache_dir).in_states(NC_STATE_FIPS)
    zips = load_zip_points(cache_dir).in_states("NC")
    accounts = synthesize_accounts(zips, counties, NC_ACCOUNTS, NC_SEED)
    reps = place_reps(accounts, zips, NC_REPS, NC_SEED)
    alignment = starting_alignment(counties, NC_TERRITORIES)
    write_counties(out / "counties.geojson", counties)
    write_zip_points(out / "zip_points.csv", zips)
    write_accounts(out / "accounts.csv", accounts)
    write_reps(out / "reps.csv", reps)
    write_alignment(out / "alignment.csv", out / "territories.csv", alignment)
    about = {
        "state_fips": NC_STATE_FIPS,
        "seed": NC_SEED,
        "inputs": input_checksums(),
        "counts": {
            "counties": len(counties),
            "zip_points": len(zips),
            "accounts": len(accounts),
            "reps": len(reps),
            "territories": len(alignment.territories),
            "unassigned_units": len(alignment.unassigned),
        },
        "notice": "see territory_geodata/DATA_NOTICE.md: real Census/GeoNames data, synthetic accounts and reps",
    }
    atomic_write_bytes(out / "fixture.json", (json.dumps(about, indent=2) + "\n").encode("utf-8"))
    return out
