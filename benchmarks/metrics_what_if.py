"""What-if latency and full metrics time on US counties: 3,108 units, 50,000 accounts, 50 territories.

Builds the same ``AlignmentModel`` metrics-service keeps per alignment (unit attributes + per-unit account
sums, membership, territory sums), from ``territory_geodata``: the contiguous US counties, 50,000 synthetic
accounts aggregated per county, and the 50-territory starting alignment under its regions. Then:

- full metrics: every territory (all levels) from scratch, with the dissolves for area, Polsby-Popper, parts;
- what-if: 20 units on a territory's border moved to a neighbouring territory (the map's edit), through the
  use case the ``POST /v1/alignments/{id}/what-if`` endpoint runs (copy, incremental move, touched territories
  re-dissolved, balance of all leaves before and after), p50 / p99 over many random edits;
- an applied edit: the live model moved (sums by difference) and every territory's metrics read again.

    uv run python benchmarks/metrics_what_if.py [--accounts 50000] [--territories 50] [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from metrics_service.domain.accounts import account_sums
from metrics_service.domain.alignment import AlignmentModel, TerritoryNode
from metrics_service.domain.layer import LayerData
from metrics_service.use_cases.what_if import what_if
from territory_geodata import load_us_counties, load_zip_points, starting_alignment, synthesize_accounts
from territory_geodata.alignment import county_adjacency


def build(n_accounts: int, n_territories: int, seed: int) -> tuple[AlignmentModel, np.ndarray, dict]:
    timings = {}
    t = time.perf_counter()
    counties = load_us_counties().contiguous()
    zips = load_zip_points()
    accounts = synthesize_accounts(zips, counties, n_accounts, seed)
    timings["load geodata + synthesize accounts (s)"] = time.perf_counter() - t
    t = time.perf_counter()
    layer = LayerData.build(
        "us-counties",
        counties.ids.tolist(),
        [
            {"population": float(p), "potential": float(v)}
            for p, v in zip(counties.population, counties.potential, strict=True)
        ],
        counties.geometries,
        ["population", "potential"],
    )
    timings["layer build + equal-area projection (s)"] = time.perf_counter() - t
    t = time.perf_counter()
    names, sums, outside = account_sums(
        layer,
        accounts.lon,
        accounts.lat,
        {
            "potential": accounts.potential,
            "revenue": accounts.revenue,
            "workload_hours": accounts.workload_hours,
            "visits_per_year": accounts.visits_per_year,
        },
    )
    layer = layer.with_sums(names, sums)
    timings["locate + aggregate 50k accounts per unit (s)"] = time.perf_counter() - t
    timings["accounts outside every unit"] = outside
    alignment = starting_alignment(counties, n_territories)
    nodes = [TerritoryNode(code, code, name) for code, name in alignment.regions]
    nodes += [TerritoryNode(tt.code, tt.code, tt.name, tt.region_code) for tt in alignment.territories]
    t = time.perf_counter()
    model = AlignmentModel.build("bench", layer, alignment.as_dict(), nodes)
    timings["model build (sums) (s)"] = time.perf_counter() - t
    left, right = county_adjacency(counties)
    edges = np.column_stack([left, right])
    return model, edges, timings


def border_edit(model: AlignmentModel, edges: np.ndarray, rng: np.random.Generator, size: int = 20):
    """``size`` units of one territory that touch a neighbouring territory, and that neighbour."""
    labels = model.labels
    cross = edges[
        (labels[edges[:, 0]] >= 0) & (labels[edges[:, 1]] >= 0) & (labels[edges[:, 0]] != labels[edges[:, 1]])
    ]
    a, b = cross[rng.integers(len(cross))]
    source, target = labels[a], labels[b]
    members = np.flatnonzero(labels == source)
    # Units of the source territory nearest the border unit: a compact bite, like a lasso on the map.
    c = model.layer.centroids
    order = members[np.argsort(np.hypot(*(c[members] - c[a]).T))]
    units = model.layer.unit_ids[order[:size]].tolist()
    return units, model.slots[target]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--territories", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    model, edges, timings = build(args.accounts, args.territories, args.seed)
    print(f"units: {len(model.layer)}, territories: {len(model.territories)}, metrics: {model.layer.metrics}")
    for k, v in timings.items():
        print(f"  {k}: {v:.3f}" if isinstance(v, float) else f"  {k}: {v}")

    cold = []
    for _ in range(3):
        fresh = AlignmentModel.build("bench", model.layer, model.membership(), model.territories.values())
        t = time.perf_counter()
        rows = fresh.territory_metrics()
        cold.append(time.perf_counter() - t)
    t = time.perf_counter()
    fresh.territory_metrics()
    warm = time.perf_counter() - t
    print(
        f"full metrics, {len(rows)} territories at all levels: cold {min(cold) * 1000:.0f} ms (dissolves), "
        f"warm {warm * 1000:.1f} ms (shapes cached)"
    )
    model = fresh

    rng = np.random.default_rng(args.seed)
    latencies = []
    for _ in range(args.runs):
        units, target = border_edit(model, edges, rng)
        t = time.perf_counter()
        result = what_if(model, [(units, target)], metric="account_potential", tolerance=0.05)
        latencies.append((time.perf_counter() - t) * 1000)
        assert result.touched
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(
        f"what-if (20 border units, balance of every leaf before/after), {args.runs} runs: "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1]:.1f} ms"
    )

    # The consumer's path for a real edit: move on the live model (sums by difference), then read.
    applied = []
    for _ in range(min(args.runs, 100)):
        units, target = border_edit(model, edges, rng)
        t = time.perf_counter()
        model.move(units, target)
        model.territory_metrics()
        applied.append((time.perf_counter() - t) * 1000)
    applied.sort()
    print(
        f"applied edit + all territory metrics: p50 {statistics.median(applied):.1f} ms, "
        f"p99 {applied[int(0.99 * (len(applied) - 1))]:.1f} ms"
    )


if __name__ == "__main__":
    main()
