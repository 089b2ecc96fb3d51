"""The plan's real figures, computed from scratch: balance per metric and territory, caps, contiguity, compactness,
disruption, and the constraints it misses (with why)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from territory_optimizer.graph import non_contiguous
from territory_optimizer.model import Model


@dataclass(frozen=True)
class Violation:
    """A constraint the plan (or any plan) misses. `constraint` is one of 'balance', 'capacity', 'min_total',
    'max_total', 'contiguity', 'locked', 'move_limit'. `least_deviation`, on a reason that no plan can meet a
    metric's tolerance, is the max deviation (a fraction) that every plan reaches at least, when it is known."""

    constraint: str
    detail: str
    territory: int | None = None
    metric: str | None = None
    least_deviation: float | None = None


@dataclass(frozen=True)
class MetricFigures:
    name: str
    tolerance: float | None
    totals: tuple[float, ...]  # per territory
    targets: tuple[float, ...]  # per territory
    max_deviation: float  # max |total - target| / target, a fraction
    cv: float  # coefficient of variation of the territory totals
    within_tolerance: bool


@dataclass(frozen=True)
class Figures:
    metrics: tuple[MetricFigures, ...]
    sizes: tuple[int, ...]
    non_contiguous: tuple[int, ...]
    polsby_popper: tuple[float, ...] | None  # per territory, from unit areas and shared borders (None without shapes)
    mean_polsby_popper: float | None
    moved_units: int
    moved_weight: float
    violations: tuple[Violation, ...]

    def metric(self, name: str) -> MetricFigures:
        return next(m for m in self.metrics if m.name == name)

    @property
    def max_deviation(self) -> float:
        """Largest deviation over the balanced metrics (0 when none is balanced)."""
        return max((m.max_deviation for m in self.metrics if m.tolerance is not None), default=0.0)


def compute_figures(model: Model, assign: np.ndarray, moved_weight_metric: int | None = None) -> Figures:
    k = model.k
    lab = np.asarray(assign, dtype=np.int64)
    sizes = np.bincount(lab, minlength=k)
    violations: list[Violation] = []
    metrics = []
    for j, name in enumerate(model.metric_names):
        totals = np.bincount(lab, weights=model.values[:, j], minlength=k)
        targets = model.targets[:, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.where(targets > 0, (totals - targets) / targets, 0.0)
        tol = float(model.tolerances[j]) if np.isfinite(model.tolerances[j]) else None
        mean = totals.mean()
        cv = float(totals.std() / mean) if mean > 0 else 0.0
        within = True
        if tol is not None:
            for t in np.flatnonzero(np.abs(dev) > tol + 1e-9).tolist():
                within = False
                word = "above" if dev[t] > 0 else "below"
                violations.append(
                    Violation(
                        "capacity" if _is_capacity(model, j) else "balance",
                        f"territory {t} has {name} = {totals[t]:,.6g}, {abs(dev[t]) * 100:.2f}% {word} its target "
                        f"{targets[t]:,.6g} (tolerance +-{tol * 100:g}%)",
                        int(t),
                        name,
                    )
                )
        for t in range(k):
            if totals[t] > model.cap_max[j] + 1e-9:
                violations.append(
                    Violation(
                        "max_total",
                        f"territory {t} has {name} = {totals[t]:,.6g} > max {model.cap_max[j]:,.6g}",
                        t,
                        name,
                    )
                )
            if totals[t] < model.cap_min[j] - 1e-9:
                violations.append(
                    Violation(
                        "min_total",
                        f"territory {t} has {name} = {totals[t]:,.6g} < min {model.cap_min[j]:,.6g}",
                        t,
                        name,
                    )
                )
        metrics.append(
            MetricFigures(
                name=name,
                tolerance=tol,
                totals=tuple(float(x) for x in totals),
                targets=tuple(float(x) for x in targets),
                max_deviation=float(np.abs(dev).max()),
                cv=cv,
                within_tolerance=within,
            )
        )
    broken = non_contiguous(lab.tolist(), k, model.neighbors)
    for t in broken:
        violations.append(Violation("contiguity", f"territory {t} is not contiguous", t))
    for t in np.flatnonzero(sizes == 0).tolist():
        violations.append(Violation("contiguity", f"territory {t} is empty", t))
    bad_lock = np.flatnonzero((model.locked >= 0) & (model.locked != lab))
    for u in bad_lock:
        violations.append(Violation("locked", f"unit {u} is locked to territory {model.locked[u]}", int(lab[u])))

    pp = None
    mean_pp = None
    if model.has_shapes:
        pp = tuple(_graph_polsby_popper(model, lab))
        mean_pp = float(np.mean(pp))
    moved_units = 0
    moved_weight = 0.0
    if model.initial is not None:
        moved = lab != model.initial
        moved_units = int(moved.sum())
        if moved_weight_metric is not None:
            moved_weight = float(model.values[moved, moved_weight_metric].sum())
    return Figures(
        metrics=tuple(metrics),
        sizes=tuple(int(s) for s in sizes),
        non_contiguous=tuple(broken),
        polsby_popper=pp,
        mean_polsby_popper=mean_pp,
        moved_units=moved_units,
        moved_weight=moved_weight,
        violations=tuple(violations),
    )


def _is_capacity(model: Model, j: int) -> bool:
    return not np.allclose(model.targets[:, j], model.values[:, j].sum() / model.k)


def _graph_polsby_popper(model: Model, lab: np.ndarray) -> list[float]:
    k = model.k
    area = np.bincount(lab, weights=model.areas, minlength=k)
    per = np.bincount(lab, weights=model.external, minlength=k)
    for u, (nb, ln) in enumerate(zip(model.neighbors, model.neighbor_lengths, strict=True)):
        t = lab[u]
        for v, length in zip(nb, ln, strict=True):
            if lab[v] != t:
                per[t] += length
    return [float(4 * math.pi * a / p**2) if p > 0 else 0.0 for a, p in zip(area, per, strict=True)]
