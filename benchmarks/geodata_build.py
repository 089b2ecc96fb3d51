"""Benchmark of the geodata builder: a cold and a cached build of the demo set, and 1,000,000 synthetic accounts.

    uv run python benchmarks/geodata_build.py [--accounts 50000] [--reps 100] [--big 1000000] [--cache-dir DIR]

The cold build uses a fresh temporary cache (so it includes `npm pack us-atlas@3.0.1`, about 1 s, and every
layer build) unless --cache-dir is given. Prints seconds, peak RSS and file sizes.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from territory_geodata import (
    build_demo,
    load_us_counties,
    load_zip_points,
    place_reps,
    synthesize_accounts,
)
from territory_geodata.tables import write_accounts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def report(label: str, seconds: float) -> None:
    print(f"{label:<44} {seconds:8.2f} s   peak RSS {peak_rss_mb():7.0f} MB")


def run(cache_dir: Path, accounts: int, reps: int, big: int) -> None:
    started = time.perf_counter()
    cold = build_demo(accounts=accounts, reps=reps, cache_dir=cache_dir, force=True)
    report(f"demo build, cold cache ({accounts:,} accounts)", time.perf_counter() - started)
    started = time.perf_counter()
    cached = build_demo(accounts=accounts, reps=reps, cache_dir=cache_dir)
    assert not cached.rebuilt
    report("demo build, cached (returns the first)", time.perf_counter() - started)
    for name, meta in cold.manifest["files"].items():
        print(f"  {name:<20} {meta['bytes'] / 1e6:8.2f} MB")

    counties, zips = load_us_counties(cache_dir), load_zip_points(cache_dir)
    started = time.perf_counter()
    many = synthesize_accounts(zips, counties, n=big, seed=42)
    report(f"synthesize {big:,} accounts", time.perf_counter() - started)
    started = time.perf_counter()
    place_reps(many, zips, n=reps, seed=42)
    report(f"place {reps} reps over {big:,} accounts", time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        write_accounts(Path(tmp) / "accounts.csv", many)
        size = (Path(tmp) / "accounts.csv").stat().st_size
        report(f"write {big:,} accounts to CSV ({size / 1e6:.0f} MB)", time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: a fresh temporary cache (cold)")
    args = parser.parse_args()
    if args.cache_dir is not None:
        run(args.cache_dir, args.accounts, args.reps, args.big)
    else:
        with tempfile.TemporaryDirectory(prefix="geodata-bench-") as tmp:
            run(Path(tmp), args.accounts, args.reps, args.big)


if __name__ == "__main__":
    main()
