import filecmp

import numpy as np
import shapely
from territory_geodata import build_nc_fixture, load_nc_fixture
from territory_geodata.fixtures import FIXTURE_FILES, fixture_dir


def test_the_committed_nc_fixture_is_what_the_builder_makes(tmp_path, cache_dir):
    rebuilt = build_nc_fixture(tmp_path, cache_dir)
    for name in FIXTURE_FILES:
        assert filecmp.cmp(rebuilt / name, fixture_dir() / name, shallow=False), (
            f"{name} differs: run `uv run python -m territory_geodata fixture` and review the diff"
        )


def test_the_nc_fixture_is_small():
    assert sum(p.stat().st_size for p in fixture_dir().iterdir()) < 2_000_000


def test_the_nc_fixture_loads_offline():
    nc = load_nc_fixture()
    assert len(nc.counties) == 100 and len(nc.accounts) == 3_000 and len(nc.reps) == 10
    assert shapely.is_valid(nc.counties.geometries).all() and not shapely.is_empty(nc.counties.geometries).any()
    assert (nc.counties.population > 0).all() and (nc.counties.potential > 0).all()
    assert set(nc.accounts.county_fips.tolist()) <= set(nc.counties.ids.tolist())
    assert set(nc.accounts.zip.tolist()) <= set(nc.zips.zip.tolist())
    assert nc.accounts.inside_us.all() and set(nc.accounts.state.tolist()) == {"NC"}
    assert "37183" not in nc.alignment and len(nc.alignment) + 8 == 100
    assert sum(row["level"] == "territory" for row in nc.territories) == 10
    shapes = nc.counties.geometries[np.searchsorted(nc.counties.ids, nc.accounts.county_fips)]
    assert shapely.contains_xy(shapes, nc.accounts.lon, nc.accounts.lat).mean() > 0.999
