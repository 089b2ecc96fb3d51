"""Proof that a multi-metric benchmark case is infeasible: the lightest (or heaviest) a territory holding a given unit
can be on one metric, over every connected set of units that keeps the other metrics within their bands.

    uv run python benchmarks/optimizer_bounds.py                  # NC K=10 around Wake County, workload
    uv run python benchmarks/optimizer_bounds.py --unit 37081 --max

A mixed-integer program: x[u] = 1 when unit u is in the territory (the given unit always is); connectivity by a
single-commodity flow from the given unit, each other chosen unit consuming one unit of flow, carried only on edges
between chosen units. Solved to optimality by HiGHS, so the bound is exact. If the lightest territory around a unit
is still above the band of the minimised metric, no plan can meet the tolerances, whatever the search.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

sys.path.insert(0, str(Path(__file__).parent))

from optimizer_instances import north_carolina  # noqa: E402
from territory_optimizer import unit_shapes  # noqa: E402


def territory_bound(shares: dict[str, np.ndarray], bands: dict[str, float], edges, root: int, metric: str, sign: float):
    """min (sign=1) or max (sign=-1) of `metric`'s share over connected sets holding `root` with every metric of
    `bands` within 1 +- its tolerance; shares are per unit, as fractions of a territory's target. None if no set."""
    n = len(shares[metric])
    pairs = sorted({(min(a, b), max(a, b)) for a, b in np.asarray(edges).tolist() if a != b})
    arcs = pairs + [(b, a) for a, b in pairs]
    n_var = n + len(arcs)
    rows, cols, vals, lo, hi = [], [], [], [], []

    def row(entries, low, high):
        r = len(lo)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lo.append(low)
        hi.append(high)

    for name, tol in bands.items():
        row([(u, float(shares[name][u])) for u in range(n)], 1 - tol, 1 + tol)
    inflow: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for q, (a, b) in enumerate(arcs):
        inflow[b].append((n + q, 1.0))
        inflow[a].append((n + q, -1.0))
        row([(n + q, 1.0), (a, -float(n))], -np.inf, 0.0)  # flow only between chosen units
        row([(n + q, 1.0), (b, -float(n))], -np.inf, 0.0)
    for u in range(n):
        if u != root:
            row(inflow[u] + [(u, -1.0)], 0.0, np.inf)  # a chosen unit keeps one unit of the flow
    matrix = coo_matrix((vals, (rows, cols)), shape=(len(lo), n_var)).tocsr()
    lower = np.zeros(n_var)
    lower[root] = 1.0
    upper = np.concatenate([np.ones(n), np.full(len(arcs), float(n))])
    objective = np.concatenate([sign * shares[metric], np.zeros(len(arcs))])
    res = milp(
        objective,
        constraints=LinearConstraint(matrix, np.asarray(lo), np.asarray(hi)),
        integrality=np.concatenate([np.ones(n), np.zeros(len(arcs))]),
        bounds=Bounds(lower, upper),
    )
    return None if res.x is None else float(sign * res.fun)


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
    bound = territory_bound(shares, bands, shapes.edges, root, args.metric, -1.0 if args.max else 1.0)
    kind = "heaviest" if args.max else "lightest"
    within = ", ".join(f"{k} +-{v * 100:g}%" for k, v in bands.items())
    value = "no connected set at all" if bound is None else f"{bound * 100:.2f}% of its target"
    print(f"{inst.name} K={inst.k}: the {kind} territory holding {args.unit} ({within}) has {args.metric} {value}")


if __name__ == "__main__":
    main()
