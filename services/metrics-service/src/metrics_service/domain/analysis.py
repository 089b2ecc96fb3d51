"""Alignment-level figures from territory metrics: balance, market gap, comparison and disruption."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from metrics_service.domain.alignment import AlignmentModel, TerritoryMetrics
from metrics_service.domain.statistics import balance


class UnknownMetric(Exception):
    def __init__(self, metric: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown metric {metric!r}; this alignment has {', '.join(known)}")
        self.metric, self.known = metric, list(known)


SHAPE_METRICS = ("area_km2", "polsby_popper", "parts", "unit_count")


def metric_names(model: AlignmentModel) -> list[str]:
    return [*model.layer.metrics, *SHAPE_METRICS, "reps", "capacity_hours", "utilization"]


def value_of(row: TerritoryMetrics, metric: str) -> float:
    if metric in row.values:
        return row.values[metric]
    if metric in ("area_km2", "polsby_popper", "parts"):
        return float(getattr(row.shape, metric))
    if metric in ("unit_count", "reps"):
        return float(getattr(row, metric))
    if metric in ("capacity_hours", "utilization", "travel_mean_km", "travel_max_km"):
        return float(getattr(row, metric) or 0.0)
    raise KeyError(metric)


def check_metric(model: AlignmentModel, metric: str) -> None:
    if metric not in metric_names(model):
        raise UnknownMetric(metric, metric_names(model))


def level_rows(rows: Sequence[TerritoryMetrics], level: int | None) -> list[TerritoryMetrics]:
    """The territories balanced against each other: the leaves, or every territory at one depth."""
    return [r for r in rows if (r.leaf if level is None else r.depth == level)]


@dataclass(frozen=True)
class BalanceReport:
    metric: str
    tolerance: float
    target: float
    max_deviation_pct: float
    cv: float
    gini: float
    territories: list[dict[str, Any]]

    @property
    def out_of_balance(self) -> list[dict[str, Any]]:
        return [t for t in self.territories if not t["within_tolerance"]]


def balance_report(
    rows: Sequence[TerritoryMetrics], metric: str, tolerance: float, target: float | None
) -> BalanceReport:
    values = np.array([value_of(r, metric) for r in rows], dtype=float)
    b = balance(values, tolerance, target)
    return BalanceReport(
        metric=metric,
        tolerance=tolerance,
        target=b.target,
        max_deviation_pct=b.max_deviation_pct,
        cv=b.cv,
        gini=b.gini,
        territories=[
            {
                "territory_id": r.territory_id,
                "code": r.code,
                "value": float(v),
                "deviation_pct": None if np.isnan(d) else float(d),
                "within_tolerance": bool(w),
            }
            for r, v, d, w in zip(rows, values, b.deviations_pct, b.within, strict=True)
        ],
    )


def market_gap(
    model: AlignmentModel, rows: Sequence[TerritoryMetrics], metric: str, tolerance: float
) -> dict[str, Any]:
    """Load per rep of each leaf against the mean load per rep, and the white space.

    Above the band a territory is under-served (more work or potential than its reps can cover); below
    it over-served. A territory without a roster counts as one rep. With capacities and the workload
    metric, the load is the utilization (workload / capacity) and the band is around 1.0.
    """
    leaves = [r for r in rows if r.leaf]
    use_capacity = metric == "workload_hours" and any(r.capacity_hours for r in leaves)
    loads = []
    for r in leaves:
        if use_capacity:
            loads.append((r.utilization or 0.0) if r.capacity_hours else value_of(r, metric))
        else:
            loads.append(value_of(r, metric) / max(r.reps, 1))
    target = 1.0 if use_capacity else (float(np.mean(loads)) if loads else 0.0)
    under, over = [], []
    for r, load in zip(leaves, loads, strict=True):
        entry = {"territory_id": r.territory_id, "code": r.code, "load_per_rep": load, "reps": r.reps}
        if target > 0 and load > target * (1 + tolerance):
            under.append({**entry, "excess_pct": (load / target - 1) * 100})
        elif target > 0 and load < target * (1 - tolerance):
            over.append({**entry, "shortfall_pct": (1 - load / target) * 100})
    white = model.white_space()
    layer = model.layer
    return {
        "metric": metric,
        "basis": "utilization" if use_capacity else "per_rep",
        "target_load_per_rep": target,
        "tolerance": tolerance,
        "under_served": sorted(under, key=lambda e: -e["excess_pct"]),
        "over_served": sorted(over, key=lambda e: -e["shortfall_pct"]),
        "white_space": {
            "unit_count": int(len(white)),
            "unit_ids": layer.unit_ids[white].tolist()[:1000],
            "values": dict(zip(layer.metrics, model.white_space_values().tolist(), strict=True)),
        },
    }


def _code_per_unit(model: AlignmentModel) -> np.ndarray:
    codes = np.array(
        [model.territories[t].code if t in model.territories else t for t in model.slots] + [""], dtype=object
    )
    per_unit: np.ndarray = codes[model.labels]  # WHITE_SPACE (-1) picks the trailing ""
    return per_unit


def _reps_per_unit(model: AlignmentModel) -> np.ndarray | None:
    if not model.rosters:
        return None
    reps = np.empty(len(model.slots) + 1, dtype=object)
    for i, t in enumerate(model.slots):
        reps[i] = frozenset(r.rep_id for r in model.rosters.get(model._code(t), []))
    reps[-1] = frozenset()
    per_unit: np.ndarray = reps[model.labels]
    return per_unit


def compare(a: AlignmentModel, b: AlignmentModel) -> dict[str, Any]:
    """Territories matched by code: every metric of each side and the delta; totals; disruption."""
    rows_a = {r.code: r for r in a.territory_metrics()}
    rows_b = {r.code: r for r in b.territory_metrics()}
    metrics = sorted(set(a.layer.metrics) | set(b.layer.metrics)) + list(SHAPE_METRICS)
    territories = []
    for code in sorted(set(rows_a) | set(rows_b)):
        ra, rb = rows_a.get(code), rows_b.get(code)
        va = {m: value_of(ra, m) if ra and _has(ra, m) else 0.0 for m in metrics}
        vb = {m: value_of(rb, m) if rb and _has(rb, m) else 0.0 for m in metrics}
        territories.append(
            {
                "code": code,
                "a": {"territory_id": ra.territory_id if ra else None, "values": va},
                "b": {"territory_id": rb.territory_id if rb else None, "values": vb},
                "delta": {m: vb[m] - va[m] for m in metrics},
                "leaf": (ra or rb).leaf,  # type: ignore[union-attr]
            }
        )
    totals_a = dict(zip(a.layer.metrics, a.totals().tolist(), strict=True))
    totals_b = dict(zip(b.layer.metrics, b.totals().tolist(), strict=True))
    totals = {
        m: {"a": totals_a.get(m, 0.0), "b": totals_b.get(m, 0.0), "delta": totals_b.get(m, 0.0) - totals_a.get(m, 0.0)}
        for m in sorted(set(totals_a) | set(totals_b))
    }
    return {"territories": territories, "totals": totals, "disruption": disruption(a, b)}


def _has(row: TerritoryMetrics, metric: str) -> bool:
    try:
        value_of(row, metric)
        return True
    except KeyError:
        return False


def disruption(a: AlignmentModel, b: AlignmentModel) -> dict[str, Any]:
    """Share of units, accounts and potential whose territory (by code) or rep changes from a to b."""
    if a.layer.layer_id != b.layer.layer_id:
        common = np.intersect1d(a.layer.unit_ids.astype(str), b.layer.unit_ids.astype(str))
    else:
        common = a.layer.unit_ids.astype(str)
    ia = np.array([a.layer.index[u] for u in common], dtype=np.int64)
    ib = np.array([b.layer.index[u] for u in common], dtype=np.int64)
    codes_a, codes_b = _code_per_unit(a)[ia], _code_per_unit(b)[ib]
    changed = codes_a != codes_b
    reps_a, reps_b = _reps_per_unit(a), _reps_per_unit(b)
    rep_changed = None
    if reps_a is not None and reps_b is not None:
        rep_changed = reps_a[ia] != reps_b[ib]
    out: dict[str, Any] = {
        "units_compared": int(len(common)),
        "units_changed": int(changed.sum()),
        "unit_share": float(changed.mean()) if len(common) else 0.0,
    }
    for name, metric in (("account", "account_count"), ("potential", "account_potential"), ("potential", "potential")):
        key = f"{name}_share"
        if key in out or metric not in a.layer.column:
            continue
        w = a.layer.values[ia, a.layer.column[metric]]
        # Accounts pinned to a territory stay where they are: they count in the total, never as changed.
        total = float(w.sum()) + sum(float(v[a.layer.column[metric]]) for v in a.pinned.values())
        out[key] = float(w[changed].sum() / total) if total > 0 else 0.0
        out[f"{name}_basis"] = metric
        if rep_changed is not None:
            moved = changed | rep_changed
            out[f"{name}_share_territory_or_rep"] = float(w[moved].sum() / total) if total > 0 else 0.0
    return out
