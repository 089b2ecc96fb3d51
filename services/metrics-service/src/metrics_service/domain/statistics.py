"""Balance statistics of one metric over a set of territories: deviation from a target, CV, Gini."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Balance:
    """How far each territory is from the target, in percent, and the figures of the whole set."""

    target: float
    deviations_pct: np.ndarray  # per territory; nan when the target is 0
    within: np.ndarray  # bool per territory: |deviation| <= tolerance
    max_deviation_pct: float
    cv: float
    gini: float


def balance(values: np.ndarray | Sequence[float], tolerance: float, target: float | None = None) -> Balance:
    """``target`` None means the mean. ``tolerance`` is a fraction (0.05 = 5 %)."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean()) if len(x) else 0.0
    goal = mean if target is None else float(target)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.where(goal != 0, (x - goal) / goal * 100.0, np.nan)
    within = np.abs(np.nan_to_num(dev, nan=np.inf)) <= tolerance * 100.0 + 1e-9
    return Balance(
        target=goal,
        deviations_pct=dev,
        within=within,
        max_deviation_pct=float(np.nanmax(np.abs(dev))) if len(x) and not np.all(np.isnan(dev)) else 0.0,
        cv=coefficient_of_variation(x),
        gini=gini(x),
    )


def coefficient_of_variation(values: np.ndarray) -> float:
    """Population standard deviation over the mean (0 for an empty set or a zero mean)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0 or x.mean() == 0:
        return 0.0
    return float(x.std() / x.mean())


def gini(values: np.ndarray) -> float:
    """Gini coefficient: mean absolute difference over twice the mean; 0 = all equal."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    # sum_i sum_j |x_i - x_j| = 2 * sum_i (2i - n + 1) x_(i) over the sorted values (i from 0).
    ranks = 2 * np.arange(n) - n + 1
    return float((ranks * x).sum() / (n * x.sum()))
