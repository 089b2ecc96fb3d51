"""The optimizer's proofs of infeasibility over every state's counties: how many requests the precheck proves cannot
be met, how long it takes, and a check that the search never beats a proof: no proven request gets a feasible plan,
and none a plan whose max deviation is under the least deviation the proof allows.

    uv run python benchmarks/optimizer_proofs.py                       # K = 4, 8, 12; tolerances 1% and 5%
    uv run python benchmarks/optimizer_proofs.py --k 10 --tolerances 0.01

Weight: the square root of county population (as in optimizer_compare.py). A state is tried at K only when it has
at least three counties per territory. Every proven request is then optimized (seed 0): a feasible plan would mean
a false proof, and the script exits 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from optimizer_instances import us_counties  # noqa: E402
from territory_optimizer import Metric, Options, Problem, optimize, unit_shapes  # noqa: E402
from territory_optimizer.feasibility import precheck  # noqa: E402
from territory_optimizer.model import compile_problem  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", default="4,8,12")
    ap.add_argument("--tolerances", default="0.01,0.05")
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds per optimization of a proven request")
    args = ap.parse_args()
    us = us_counties()
    weight = us.columns["sqrt_pop"]
    ids = [unit.zfill(5) for unit in us.ids]
    states = sorted({unit[:2] for unit in ids})
    tried = proven = false_proofs = bounded = reached = 0
    seconds: list[tuple[float, str]] = []
    for state in states:
        keep = [q for q, unit in enumerate(ids) if unit.startswith(state)]
        shapes = unit_shapes(us.geoms[keep], us.crs)
        for k in (int(x) for x in args.k.split(",")):
            if len(keep) < 3 * k:
                continue
            for tolerance in (float(x) for x in args.tolerances.split(",")):
                problem = Problem(
                    unit_ids=[ids[q] for q in keep],
                    metrics=[Metric("sqrt_pop", weight[keep], tolerance)],
                    edges=shapes.edges,
                    k=k,
                    geometry=shapes.geometry,
                )
                started = time.perf_counter()
                reasons = precheck(compile_problem(problem), problem.unit_ids)
                seconds.append((time.perf_counter() - started, f"{state} K={k} +-{tolerance:g}"))
                tried += 1
                if not reasons:
                    continue
                proven += 1
                plan = optimize(problem, Options(seed=0, time_limit_s=args.time_limit))
                least = max((r.least_deviation or 0.0) for r in reasons)
                false_proofs += plan.feasible or plan.figures.max_deviation < least - 1e-9
                print(f"{state} ({len(keep)} counties) K={k} +-{tolerance:g}: {reasons[0].detail}", flush=True)
                print(f"    search's best: max deviation {plan.figures.max_deviation * 100:.2f}%", flush=True)
                bounded += least > 0
                reached += least > 0 and plan.figures.max_deviation <= least + 1e-4
    seconds.sort(reverse=True)
    total = sum(s for s, _ in seconds)
    print(f"\n{tried} requests, {proven} proven infeasible, {false_proofs} false proofs")
    print(f"{bounded} with a least max deviation, which the search's plan reached on {reached}")
    print(f"precheck: {total:.1f} s in all, slowest {seconds[0][0]:.2f} s ({seconds[0][1]})")
    return 1 if false_proofs else 0


if __name__ == "__main__":
    sys.exit(main())
