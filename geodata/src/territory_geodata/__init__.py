"""Reproducible real geography and synthetic accounts/reps for the territory platform's demo, tests and benchmarks.

Stable entry points (nothing is built or downloaded at import; every loader caches under
``${TERRITORY_CACHE_DIR:-~/.cache/territory}/geodata/v1`` unless given ``cache_dir``):

- ``load_us_counties()`` -> ``Counties`` (3,142; ``.contiguous()`` = lower 48 + DC, 3,108), ``load_us_states()``
- ``load_zip_points()`` -> ``ZipPoints``; ``load_zip_lookup().resolve("27601")`` -> lat/lon, precision zip-centroid
- ``synthesize_accounts(zips, counties, n, seed)``, ``place_reps(accounts, zips, n, seed)``
- ``starting_alignment(counties, n_territories)``, ``h3_layer(region, resolution, zips)``,
  ``approximate_zip_areas(zips, states)``
- ``build_demo(out_dir, accounts=50_000, reps=100, seed=42)``; ``load_nc_fixture()`` (committed, offline)
- ``data_notice()``: sources and licences
"""

from .accounts import Accounts, synthesize_accounts
from .alignment import Alignment, Territory, starting_alignment
from .cache import cache_root
from .counties import Counties, States, load_us_counties, load_us_states
from .demo import DemoBuild, build_demo
from .errors import ChecksumMismatch, GeodataError, SourceUnavailable
from .fixtures import NCFixture, build_nc_fixture, load_nc_fixture
from .h3layers import H3Layer, h3_layer
from .notice import data_notice
from .population import CountyPopulation, load_county_population
from .reps import Reps, place_reps
from .zip_areas import ZipAreas, approximate_zip_areas
from .zips import ZipLocation, ZipLookup, ZipPoints, load_zip_lookup, load_zip_points

__all__ = [
    "Accounts",
    "Alignment",
    "ChecksumMismatch",
    "Counties",
    "CountyPopulation",
    "DemoBuild",
    "GeodataError",
    "H3Layer",
    "NCFixture",
    "Reps",
    "SourceUnavailable",
    "States",
    "Territory",
    "ZipAreas",
    "ZipLocation",
    "ZipLookup",
    "ZipPoints",
    "approximate_zip_areas",
    "build_demo",
    "build_nc_fixture",
    "cache_root",
    "data_notice",
    "h3_layer",
    "load_county_population",
    "load_nc_fixture",
    "load_us_counties",
    "load_us_states",
    "load_zip_lookup",
    "load_zip_points",
    "place_reps",
    "starting_alignment",
    "synthesize_accounts",
]
