"""Side-by-side benchmark of territory-optimizer against peer libraries, scored by one metrics module.

    uv run python benchmarks/optimizer_compare.py             # ours + peers on NC K=10 and US K=50
    uv run python benchmarks/optimizer_compare.py --no-peers  # ours only, plus multi-metric and disruption cases
    uv run python benchmarks/optimizer_compare.py --no-peers --instances ga,ky,ia  # other states' counties
    uv run python benchmarks/optimizer_compare.py --instances us200,zip300  # national scale, METIS as the peer

Needs libpysal in the product venv (`uv pip install libpysal`, or the optimizer's `bench` extra). Peers (spopt,
GerryChain, HiGHS) run in their own venv so they never touch the product lock; it is created on first use:

    uv venv --python 3.11 benchmarks/peers/.venv
    uv pip install --python benchmarks/peers/.venv -r benchmarks/peers/requirements.txt
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).parent))

from optimizer_instances import Instance, north_carolina, us_counties, us_state, us_zip_areas  # noqa: E402
from optimizer_metrics import Score, score, table  # noqa: E402
from territory_optimizer import Geometry, Metric, Options, Problem, optimize, unit_shapes  # noqa: E402

HERE = Path(__file__).parent
PEERS_VENV = HERE / "peers" / ".venv"
SPOPT = ["AZP", "MaxP", "RegionKMeans", "SKATER", "Ward", "Spenc"]
ALL = ",".join(SPOPT + ["GerryChain", "MIP"])


def ensure_peers_venv() -> Path:
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["uv", "venv", "--python", "3.11", str(PEERS_VENV)], check=True)
        subprocess.run(
            ["uv", "pip", "install", "--python", str(python), "-r", str(HERE / "peers" / "requirements.txt")],
            check=True,
        )
    return python


def warm_up() -> str:
    """Load the compiled search once, before any timed run: numba compiles it on a machine's first run (about 25 s
    of CPU, then cached on disk) and reads it from the cache in every new process (a second or two). Neither is
    the search's own time, so the timed runs leave it out and this line reports it."""
    import shapely as sh

    boxes = [sh.box(c, r, c + 1, r + 1) for r in range(3) for c in range(3)]
    edges = [(q, q + 1) for q in range(9) if q % 3 != 2] + [(q, q + 3) for q in range(6)]
    problem = Problem(
        unit_ids=[str(q) for q in range(9)],
        metrics=[Metric("w", [1.0] * 9, 0.5)],
        edges=edges,
        k=2,
        geometry=Geometry(
            coords=sh.get_coordinates(sh.centroid(boxes)),
            areas=sh.area(boxes),
            border_lengths=[1.0] * len(edges),
            perimeters=sh.length(boxes),
        ),
    )
    started, cpu = time.perf_counter(), time.process_time()
    optimize(problem, Options(effort=0.01))
    return f"search kernel loaded in {time.perf_counter() - started:.1f} s (cpu {time.process_time() - cpu:.1f} s)"


def run_ours(inst: Instance, column: str, tolerance: float, seed: int, time_limit: float):
    shapes = unit_shapes(inst.geoms, inst.crs)
    weight = inst.columns[column]
    problem = Problem(
        unit_ids=inst.ids,
        metrics=[Metric(column, weight, tolerance)],
        edges=shapes.edges,
        k=inst.k,
        geometry=shapes.geometry,
    )
    started, cpu = time.perf_counter(), time.process_time()
    plan = optimize(problem, Options(seed=seed, time_limit_s=time_limit))
    seconds = time.perf_counter() - started
    totals = np.bincount(plan.assignment, weights=weight, minlength=inst.k)
    beyond = int((np.abs(totals / totals.mean() - 1.0) > tolerance + 1e-9).sum())
    note = "feasible" if plan.feasible else f"INFEASIBLE: {beyond} of {inst.k} territories beyond {tolerance:.0%}"
    if plan.infeasible_reasons:
        note += f" (proven: some territory at least {plan.infeasible_reasons[0].least_deviation or 0:.2%} off)"
    # on a shared machine the wall time says more about the neighbours than about us: give the CPU time too
    note += f"; cpu {time.process_time() - cpu:.1f} s; stopped by {plan.stopped_by}"
    return shapes, score("territory-optimizer", plan.assignment, weight, shapes.edges, shapes.projected, seconds, note)


def run_peers(inst, shapes, weight, tolerance, seed, budgets, peer_timeout, methods) -> list[Score]:
    python = ensure_peers_venv()
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "instance.json"
        path.write_text(
            json.dumps(
                {
                    "ids": inst.ids,
                    "weight": weight.tolist(),
                    "edges": shapes.edges.tolist(),
                    "lengths": shapes.geometry.border_lengths.tolist(),
                    "areas": shapes.geometry.areas.tolist(),
                    "perimeters": shapes.geometry.perimeters.tolist(),
                    "coords": shapes.geometry.coords.tolist(),
                    "wkb": [shapely.to_wkb(g, hex=True) for g in shapes.projected],
                    "k": inst.k,
                    "tolerance": tolerance,
                    # recursive_tree_part cannot seed NC's 100 counties at 2% (no cut after 100,000 attempts)
                    "gerrychain_epsilon": 0.05 if len(inst.ids) < 500 else 0.02,
                }
            )
        )
        for method in methods:
            out = Path(tmp) / f"{method}.json"
            seconds = budgets.get(method, 0.0)
            started = time.perf_counter()
            try:
                subprocess.run(
                    [
                        str(python),
                        str(HERE / "peers" / "run_peer.py"),
                        str(path),
                        method,
                        str(seconds),
                        str(seed),
                        str(out),
                    ],
                    check=True,
                    timeout=peer_timeout + seconds,
                    capture_output=True,
                )
            except subprocess.TimeoutExpired:
                scores.append(
                    Score(
                        method,
                        float("nan"),
                        float("nan"),
                        -1,
                        float("nan"),
                        time.perf_counter() - started,
                        inst.k,
                        f"no plan in {peer_timeout + seconds:.0f} s",
                    )
                )
                continue
            except subprocess.CalledProcessError as exc:
                tail = exc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
                scores.append(
                    Score(
                        method,
                        float("nan"),
                        float("nan"),
                        -1,
                        float("nan"),
                        time.perf_counter() - started,
                        inst.k,
                        f"failed: {tail[0][:80]}",
                    )
                )
                continue
            res = json.loads(out.read_text())
            if res["labels"] is None:
                scores.append(
                    Score(method, float("nan"), float("nan"), -1, float("nan"), res["seconds"], inst.k, res["note"])
                )
                continue
            scores.append(
                score(method, res["labels"], weight, shapes.edges, shapes.projected, res["seconds"], res["note"])
            )
            print(table(scores[-1:]).splitlines()[-1], flush=True)
    return scores


def run_metis(
    inst: Instance, shapes, weight: np.ndarray, tolerance: float, seed: int, borders: bool, runs: int = 25
) -> Score:
    """METIS (pymetis) as a peer: k-way partitions with contiguous parts, imbalance allowed up to the tolerance,
    edges weighted alike or (`borders`) by shared border length, so that a small cut means short borders. Best of
    `runs` seeds: the smallest max deviation, then the higher mean Polsby-Popper; the time is the mean per run."""
    import pymetis

    n = len(inst.ids)
    a, b = shapes.edges[:, 0], shapes.edges[:, 1]
    order = np.argsort(np.concatenate([a, b]), kind="stable")
    adjncy = np.concatenate([b, a])[order]
    xadj = np.concatenate([[0], np.cumsum(np.bincount(np.concatenate([a, b]), minlength=n))])
    lengths = np.asarray(shapes.geometry.border_lengths, dtype=float)
    eweights = np.maximum(1, np.round(np.concatenate([lengths, lengths])[order] / lengths.mean() * 100)).astype(int)
    if not borders:
        eweights = np.ones_like(eweights)
    vweights = np.maximum(1, np.round(weight / weight.sum() * 1e8)).astype(int)
    graph = pymetis.CSRAdjacency(xadj.tolist(), adjncy.tolist())
    best, best_key, seconds = None, None, 0.0
    for r in range(runs):
        opts = pymetis.Options()
        opts.seed = seed + r
        opts.contig = 1
        opts.ufactor = max(1, int(tolerance * 1000))
        started = time.perf_counter()
        _, parts = pymetis.part_graph(
            inst.k, graph, vweights=vweights.tolist(), eweights=eweights.tolist(), options=opts
        )
        seconds += time.perf_counter() - started
        sc = score("METIS", parts, weight, shapes.edges, shapes.projected, 0.0)
        key = (round(sc.max_dev_pct, 6), -sc.mean_pp)
        if best_key is None or key < best_key:
            best, best_key = sc, key
    assert best is not None
    how = "border-length edge weights" if borders else "edges alike"
    return replace(best, method="METIS" + (" (borders)" if borders else ""), seconds=seconds / runs,
                   note=f"best of {runs} runs, contiguous, {how}")  # fmt: skip


def multi_metric_case(inst: Instance, metrics: list[tuple[str, float]], seed: int, time_limit: float) -> str:
    shapes = unit_shapes(inst.geoms, inst.crs)
    problem = Problem(
        unit_ids=inst.ids,
        metrics=[Metric(c, inst.columns[c], tol) for c, tol in metrics],
        edges=shapes.edges,
        k=inst.k,
        geometry=shapes.geometry,
    )
    started, cpu = time.perf_counter(), time.process_time()
    plan = optimize(problem, Options(seed=seed, time_limit_s=time_limit))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    parts = [f"{m.name} {m.max_deviation * 100:.2f}% (tol {m.tolerance * 100:g}%)" for m in plan.figures.metrics]
    from territory_shared.geometry.compactness import mean_polsby_popper

    pp = mean_polsby_popper(shapes.projected, plan.assignment)
    return (
        f"{inst.name} K={inst.k}: " + ", ".join(parts) + f"; non-contiguous {len(plan.figures.non_contiguous)}; "
        f"mean PP {pp:.3f}; {seconds:.1f} s (cpu {cpu:.1f} s); feasible={plan.feasible}"
    )


def disruption_case(inst: Instance, column: str, seed: int, time_limit: float) -> str:
    """Make a 20%-off alignment (our plan at +-20%), then rebalance it to +-5% moving as few units as possible."""
    shapes = unit_shapes(inst.geoms, inst.crs)
    weight = inst.columns[column]

    def problem(tol, initial=None):
        return Problem(
            unit_ids=inst.ids,
            metrics=[Metric(column, weight, tol)],
            edges=shapes.edges,
            k=inst.k,
            geometry=shapes.geometry,
            initial=initial,
        )

    old = optimize(problem(0.20), Options(seed=seed, time_limit_s=time_limit, effort=0.3))
    before = old.figures.max_deviation
    started, cpu = time.perf_counter(), time.process_time()
    plan = optimize(problem(0.05, old.assignment), Options(seed=seed, time_limit_s=time_limit, disruption="units"))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    f = plan.figures
    return (
        f"{inst.name} K={inst.k}: from max dev {before * 100:.1f}% to {f.max_deviation * 100:.2f}% (tol 5%) moving "
        f"{f.moved_units} of {len(inst.ids)} units ({f.moved_units / len(inst.ids) * 100:.1f}%); non-contiguous "
        f"{len(f.non_contiguous)}; {seconds:.1f} s (cpu {cpu:.1f} s); feasible={plan.feasible}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--instances", default="nc,us", help="nc, us, ga, ky, ia, us200, zip300 (comma-separated)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peer-timeout", type=float, default=300.0, help="extra seconds a peer may take beyond its budget")
    ap.add_argument("--peers", default=None, help=f"peers besides METIS (default {ALL}; none on the national cases)")
    ap.add_argument("--time-limit", type=float, default=0.0, help="our time limit (default 4x the target time)")
    args = ap.parse_args()
    # key: (instance, weight column, tolerance, peer budgets, target seconds, peers run by default)
    cases = {
        "nc": (lambda: north_carolina(10), "BIR74", 0.01, {"GerryChain": 60, "MIP": 60}, 5.0, None),
        "us": (lambda: us_counties(50), "sqrt_pop", 0.01, {"GerryChain": 240, "MIP": 120}, 20.0, None),
        # other states, scored the same way (no targets of their own: the NC budgets and time)
        "ga": (lambda: us_state("13", 12), "sqrt_pop", 0.01, {"GerryChain": 60, "MIP": 60}, 5.0, None),
        "ky": (lambda: us_state("21", 12), "sqrt_pop", 0.01, {"GerryChain": 60, "MIP": 60}, 5.0, None),
        "ia": (lambda: us_state("19", 10), "sqrt_pop", 0.01, {"GerryChain": 60, "MIP": 60}, 5.0, None),
        # national scale: hundreds of territories; the target is 60 s, which is also our limit. The spopt,
        # GerryChain and MIP peers do not finish at this size, so METIS is the peer unless --peers says otherwise
        "us200": (lambda: us_counties(200), "pop045", 0.05, {}, 60.0, ""),
        "zip300": (lambda: us_zip_areas(300), "pop", 0.05, {}, 60.0, ""),
    }
    print(warm_up(), flush=True)
    for key in args.instances.split(","):
        make, column, tolerance, budgets, target, default_peers = cases[key]
        inst = make()
        print(f"\n## {inst.name}, K={inst.k}, weight {column}, tolerance {tolerance * 100:g}%\n", flush=True)
        limit = args.time_limit or (target if default_peers is not None else 4 * target)
        shapes, ours = run_ours(inst, column, tolerance, args.seed, limit)
        print(table([ours]), flush=True)
        scores = [ours]
        if not args.no_peers:
            for borders in (False, True):
                scores.append(run_metis(inst, shapes, inst.columns[column], tolerance, args.seed, borders))
                print(table(scores[-1:]).splitlines()[-1], flush=True)
            chosen = args.peers if args.peers is not None else (default_peers if default_peers is not None else ALL)
            methods = [m for m in chosen.split(",") if m]
            if key == "us":
                budgets = {**budgets, **{m: 0 for m in SPOPT}}
            if methods:
                scores += run_peers(
                    inst, shapes, inst.columns[column], tolerance, args.seed, budgets, args.peer_timeout, methods
                )
            print("\n" + table(scores), flush=True)
    if not ({"nc", "us"} & set(args.instances.split(","))):
        return
    print("\n## Multi-metric (three metrics at once)\n")
    sales = [("potential", 0.03), ("accounts", 0.10), ("workload", 0.05)]
    # On NC at K=10 these are infeasible, proven by optimizer_bounds.py: over every connected set of counties holding
    # Wake County (37183) within +-3% potential and +-10% accounts, workload is at least +5.5% (Wake has 42% of a
    # territory's potential but 69% of its workload, and its neighbours cannot even that out). So NC keeps potential
    # and accounts as tight and allows workload +-12%: feasible (our plans meet it) and still demanding.
    nc_sales = [("potential", 0.03), ("accounts", 0.10), ("workload", 0.12)]
    print(multi_metric_case(north_carolina(10), nc_sales, args.seed, 120))
    if "us" in args.instances:
        print(multi_metric_case(us_counties(50), sales, args.seed, 300))
    print("\n## Minimal disruption (20%-off alignment to +-5%)\n")
    print(disruption_case(north_carolina(10), "BIR74", args.seed, 120))
    if "us" in args.instances:
        print(disruption_case(us_counties(50), "sqrt_pop", args.seed, 300))


if __name__ == "__main__":
    main()
