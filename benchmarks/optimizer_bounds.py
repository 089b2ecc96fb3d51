"""Proof that a multi-metric benchmark case is infeasible: the lightest (or heaviest) a territory holding a given unit
can be on one metric, over every connected set of units that keeps the other metrics within their bands.

    uv run python benchmarks/optimizer_bounds.py                  # NC K=10 around Wake County, workload
    uv run python benchmarks/optimizer_bounds.py --unit 37081 --max

The optimizer's own connected-group program (`group_program.extreme_group`, the one its precheck proofs use): x[u] = 1
when unit u is in the territory (the given unit always is), connected by a single-commodity flow from the given unit.
Solved to optimality by HiGHS, so the bound is exact (the script says so when the solver's limits end it first). If
the lightest territory around a unit is still above the band of the minimised metric, no plan can meet the
tolerances, whatever the search.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from optimizer_instances import north_carolina  # noqa: E402
from territory_optimizer import unit_shapes  # noqa: E402
from territory_optimizer.group_program import extreme_group  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--unit", default="37183", help="unit id (NC FIPS); default Wake County")
    ap.add_argument("--metric", default="workload")
    ap.add_argument("--max", action="store_true", help="the heaviest territory instead of the lightest")
    ap.add_argument("--bands", default="potential=0.03,accounts=0.10")
    args = ap.parse_args()
    inst = north_carolina(10)
    shapes = unit_shapes(inst.geoms, inst.crs)
    shares = {c: inst.columns[c] / (inst.columns[c].sum() / inst.k) for c in ("potential", "accounts", "workload")}
    bands = {b.split("=")[0]: float(b.split("=")[1]) for b in args.bands.split(",")}
    root = inst.ids.index(args.unit)
    values = np.array([shares[args.metric]] + [shares[b] for b in bands])
    low = np.array([-np.inf] + [1 - t for t in bands.values()])
    high = np.array([np.inf] + [1 + t for t in bands.values()])
    status, bound = extreme_group(shapes.edges, values, low, high, root, heaviest=args.max)
    kind = "heaviest" if args.max else "lightest"
    within = ", ".join(f"{k} +-{v * 100:g}%" for k, v in bands.items())
    value = {
        "optimal": f"{(bound or 0.0) * 100:.2f}% of its target",
        "infeasible": "no connected set at all",
        "unknown": "no answer within the solver's limits",
    }[status]
    print(f"{inst.name} K={inst.k}: the {kind} territory holding {args.unit} ({within}) has {args.metric} {value}")


if __name__ == "__main__":
    main()
