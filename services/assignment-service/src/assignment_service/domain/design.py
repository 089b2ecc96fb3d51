"""Territory design: the request, per-unit weights from accounts, the optimizer's problem, and an honest summary.

Pure computation (numpy, shapely and the optimizer library); the job in ``use_cases/design.py`` does the I/O.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely

if TYPE_CHECKING:  # the optimizer (scipy and all) is imported when a job runs, not when the service starts
    from territory_optimizer import Metric, Plan, Violation

# Per-unit sums of the accounts located in each unit, named as metrics-service names them.
ACCOUNT_METRICS = ("account_count", "account_potential", "workload_hours")


@dataclass(frozen=True)
class AccountPoint:
    """A located live account, as a design sums it into the units."""

    lon: float
    lat: float
    potential: float
    workload_hours: float | None
    visits_per_year: float | None


@dataclass(frozen=True)
class SalesRep:
    """A rep holding a territory of the sales force as primary: with ``use_reps``, one territory each."""

    external_id: str
    territory_code: str
    home_lon: float | None
    home_lat: float | None
    capacity_hours: float | None


@dataclass(frozen=True)
class MetricGoal:
    """Balance ``name`` within +-``tolerance`` (a fraction) of its per-territory target; optional hard caps."""

    name: str
    tolerance: float | None = 0.05
    min_total: float | None = None
    max_total: float | None = None


@dataclass(frozen=True)
class DesignRequest:
    source_alignment_id: str | None
    layer_id: str | None
    sales_force: str | None
    name: str | None
    k: int | None
    use_reps: bool
    metrics: tuple[MetricGoal, ...]
    contiguity: bool = True
    compactness: Literal["polsby_popper", "inertia", "none"] = "polsby_popper"
    keep_locked: bool = True
    max_moved_units: int | None = None
    max_moved_share: float | None = None  # of the disruption metric's total
    disruption_metric: str | None = None
    minimise_disruption: bool = False
    redesign: bool = False  # from a source alignment: search afresh instead of moving in proportion to the imbalance
    time_limit_s: float = 30.0
    seed: int = 0
    hours_per_visit: float = 1.0


@dataclass
class Units:
    """A layer's units in one order: ids, lon/lat shapes, numeric attributes."""

    ids: list[str]
    shapes: np.ndarray  # shapely geometries, lon/lat
    attributes: list[Mapping[str, Any]]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {u: i for i, u in enumerate(self.ids)}

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the unit holding each point, or -1 (a point on a shared border goes to the first unit)."""
        out = np.full(len(lon), -1, dtype=np.int64)
        if len(lon) == 0:
            return out
        tree = shapely.STRtree(self.shapes)
        points, units = tree.query(shapely.points(lon, lat), predicate="intersects")
        out[points[::-1]] = units[::-1]
        return out


def account_sums(
    units: Units,
    lon: np.ndarray,
    lat: np.ndarray,
    potential: np.ndarray,
    workload: np.ndarray,
) -> tuple[dict[str, np.ndarray], int]:
    """Per-unit account count, potential and workload hours; and how many accounts lie outside every unit."""
    where = units.locate(lon, lat)
    inside = where >= 0
    n = len(units.ids)
    sums = {
        "account_count": np.bincount(where[inside], minlength=n).astype(float),
        "account_potential": np.bincount(where[inside], weights=potential[inside], minlength=n),
        "workload_hours": np.bincount(where[inside], weights=workload[inside], minlength=n),
    }
    return sums, int((~inside).sum())


def metric_values(goal: MetricGoal, units: Units, sums: Mapping[str, np.ndarray]) -> np.ndarray:
    if goal.name in sums:
        return np.asarray(sums[goal.name], dtype=float)
    return np.array([_number(a.get(goal.name)) for a in units.attributes], dtype=float)


def _number(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return 0.0
    return x if np.isfinite(x) and x > 0 else 0.0


def optimizer_metrics(request: DesignRequest, units: Units, sums: Mapping[str, np.ndarray]) -> list[Metric]:
    """The metrics in the order the optimizer wants: the disruption metric first among the balanced ones (the
    optimizer measures moved weight on its first balanced metric)."""
    from territory_optimizer import Metric

    goals = list(request.metrics)
    first = request.disruption_metric or next((g.name for g in goals if g.tolerance is not None), goals[0].name)
    goals.sort(key=lambda g: (g.name != first, g.tolerance is None))
    return [Metric(g.name, metric_values(g, units, sums), g.tolerance, g.min_total, g.max_total) for g in goals]


def fill_white_space(initial: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Give every unit without a territory (-1) the territory of its nearest assigned neighbour (breadth first)."""
    out = initial.copy()
    n = len(out)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges.tolist():
        neighbours[a].append(b)
        neighbours[b].append(a)
    queue = deque(int(u) for u in np.flatnonzero(out >= 0))
    while queue:
        u = queue.popleft()
        for v in neighbours[u]:
            if out[v] < 0:
                out[v] = out[u]
                queue.append(v)
    out[out < 0] = 0  # a part of the graph with no territory at all: any start will do, the search moves it
    return out


def closest_labels(assignment: np.ndarray, start: np.ndarray, codes: Sequence[str]) -> list[str]:
    """Codes for the plan's territories that keep each source territory's code where most of its units stay.

    The optimizer numbers territories freely when it starts from scratch; matching its territories to the source's
    by overlap (an assignment problem) keeps TRIANGLE around Raleigh instead of moving the name across the state.
    """
    from scipy.optimize import linear_sum_assignment

    k = len(codes)
    known = start >= 0
    overlap = np.zeros((k, k))
    np.add.at(overlap, (assignment[known], start[known]), 1.0)
    rows, cols = linear_sum_assignment(-overlap)
    out = list(codes)
    for t, s in zip(rows.tolist(), cols.tolist(), strict=True):
        out[t] = codes[s]
    return out


def violation_body(v: Violation, codes: Sequence[str]) -> dict[str, Any]:
    return {
        "constraint": v.constraint,
        "detail": _with_codes(v.detail, codes),
        "territory": codes[v.territory] if v.territory is not None and 0 <= v.territory < len(codes) else None,
        "metric": v.metric,
        # on a reason no plan can meet: the max deviation every plan reaches at least, when the proof gives it
        "least_deviation_pct": None if v.least_deviation is None else round(v.least_deviation * 100, 3),
    }


def summarise(
    plan: Plan,
    codes: Sequence[str],
    request: DesignRequest,
    source_codes: Sequence[str | None] | None,
    unit_accounts: Sequence[float] | np.ndarray | None = None,
) -> dict[str, Any]:
    """The plan's real figures, per metric and per territory, and every constraint it misses; from a source
    alignment, what moved (units and the accounts in them) and how the plan compares with the source.

    ``balanced`` is true only when every balanced metric is within its tolerance; ``feasible`` only when no
    requested constraint is missed (contiguity counts only when it was asked for).
    """
    f = plan.figures
    k = len(codes)
    violations = [v for v in plan.violations if request.contiguity or v.constraint != "contiguity"]
    metrics = []
    for m in f.metrics:
        mean = sum(m.totals) / k if k else 0.0
        metrics.append(
            {
                "metric": m.name,
                "tolerance": m.tolerance,
                "target": mean,
                "max_deviation_pct": round(m.max_deviation * 100, 4),
                "cv": m.cv,
                "within_tolerance": m.within_tolerance,
                "values": {codes[t]: m.totals[t] for t in range(k)},
            }
        )
    territories = []
    for t in range(k):
        territories.append(
            {
                "code": codes[t],
                "unit_count": f.sizes[t],
                "values": {m.name: m.totals[t] for m in f.metrics},
                "deviation_pct": {
                    m.name: round((m.totals[t] - m.targets[t]) / m.targets[t] * 100, 4) if m.targets[t] else None
                    for m in f.metrics
                },
                "contiguous": t not in f.non_contiguous,
                "polsby_popper": f.polsby_popper[t] if f.polsby_popper is not None else None,
            }
        )
    moved = accounts_moved = None
    if source_codes is not None:
        planned = [codes[t] for t in plan.assignment.tolist()]
        changed = np.array([a != b for a, b in zip(source_codes, planned, strict=True)], dtype=bool)
        moved = int(changed.sum())
        if unit_accounts is not None:
            accounts_moved = int(round(float(np.asarray(unit_accounts)[changed].sum())))
    balanced = all(m.within_tolerance for m in f.metrics if m.tolerance is not None)
    return {
        "k": k,
        "balanced": balanced,
        "feasible": not violations,
        "violations": [violation_body(v, codes) for v in violations],
        "infeasible_reasons": [violation_body(v, codes) for v in plan.infeasible_reasons],
        "metrics": metrics,
        "territories": territories,
        "contiguous": not f.non_contiguous and all(s > 0 for s in f.sizes),
        "non_contiguous_territories": [codes[t] for t in f.non_contiguous],
        "mean_polsby_popper": f.mean_polsby_popper,
        "units_moved": moved,
        "units_moved_share": (moved / len(plan.unit_ids)) if moved is not None and plan.unit_ids else None,
        "accounts_moved": accounts_moved,
        "moved_weight": f.moved_weight if source_codes is not None else None,
        **(_against_source(plan, codes, request) if source_codes is not None else {}),
        "stopped_by": plan.stopped_by,
        "elapsed_s": round(plan.elapsed_s, 3),
        "seed": plan.seed,
    }


def _against_source(plan: Plan, codes: Sequence[str], request: DesignRequest) -> dict[str, Any]:
    """How the plan compares with the source: the territories no plan can balance (kept as they are, named by
    code, with the units that make them so), each balanced metric's max deviation over the other territories in
    the source and in the plan, and whether the search found anything better."""
    aside = [codes[t] for t in plan.set_aside]
    if plan.kept_source:
        outcome = "nothing better than the source was found: the plan is the source, unchanged"
    elif plan.fell_back:
        outcome = "the search's last plan was worse than the source: the best plan seen that is not worse is returned"
    else:
        outcome = "improved on the source" if any(b.plan < b.source - 1e-9 for b in plan.balance) else "no worse"
    return {
        "moves": "free" if request.redesign else "proportionate",
        "move_budget": plan.move_budget,
        "set_aside": {
            "territories": aside,
            "units": [plan.unit_ids[u] for u in plan.set_aside_units],
            "reasons": [_with_codes(r, codes) for r in plan.set_aside_reasons],
        },
        "against_source": {
            "outcome": outcome,
            "kept_source": plan.kept_source,
            "fell_back": plan.fell_back,
            # over the territories not set aside, each against what is left for them
            "balanceable_territories": len(codes) - len(aside),
            "metrics": [
                {
                    "metric": b.name,
                    "tolerance": b.tolerance,
                    "source_max_deviation_pct": round(b.source * 100, 4),
                    "plan_max_deviation_pct": round(b.plan * 100, 4),
                }
                for b in plan.balance
            ],
        },
    }


def _with_codes(text: str, codes: Sequence[str]) -> str:
    """The optimizer numbers territories; planners know their codes."""

    def code(m: re.Match[str]) -> str:
        t = int(m.group(1))
        return f"territory {codes[t]}" if 0 <= t < len(codes) else m.group(0)

    return re.sub(r"\bterritory (\d+)\b", code, text)
