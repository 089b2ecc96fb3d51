"""``python -m territory_geodata build [--accounts N] [--reps N] [--seed S] [--out DIR] [--force]``

Also ``fixture`` (re-make the committed NC fixture) and ``notice`` (print the data notice).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from .demo import DEFAULT_ACCOUNTS, DEFAULT_REPS, DEFAULT_SEED, build_demo
from .fixtures import build_nc_fixture
from .notice import data_notice


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m territory_geodata", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the demo data set (reused when already built)")
    build.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS)
    build.add_argument("--reps", type=int, default=DEFAULT_REPS)
    build.add_argument("--territories", type=int, default=None, help="default: one per rep")
    build.add_argument("--seed", type=int, default=DEFAULT_SEED)
    build.add_argument("--out", default=None, help="default: <cache>/demo/a<accounts>-r<reps>-s<seed>")
    build.add_argument(
        "--cache-dir", default=None, help="default: ${TERRITORY_CACHE_DIR:-~/.cache/territory}/geodata/v1"
    )
    build.add_argument("--force", action="store_true", help="rebuild even if a matching build exists")
    fixture = commands.add_parser("fixture", help="re-make the North Carolina test fixture")
    fixture.add_argument("--out", default=None, help="default: the package's fixtures/nc")
    fixture.add_argument("--cache-dir", default=None)
    commands.add_parser("notice", help="print the data notice (sources and licences)")
    args = parser.parse_args(argv)

    if args.command == "notice":
        print(data_notice())
    elif args.command == "fixture":
        print(build_nc_fixture(args.out, args.cache_dir))
    else:
        started = time.perf_counter()
        result = build_demo(
            args.out,
            accounts=args.accounts,
            reps=args.reps,
            seed=args.seed,
            territories=args.territories,
            cache_dir=args.cache_dir,
            force=args.force,
        )
        summary = {
            "out_dir": str(result.out_dir),
            "rebuilt": result.rebuilt,
            "seconds": round(time.perf_counter() - started, 3),
            "counts": result.manifest["counts"],
        }
        print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
