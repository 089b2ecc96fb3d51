"""Reasons no plan can meet the request, found before searching: a unit heavier than a territory may hold, totals
the territories cannot share, more separate parts than territories, units no connected group within the bounds holds
(granularity.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from territory_shared.geometry.adjacency import components

from territory_optimizer.figures import Violation
from territory_optimizer.granularity import granularity_reasons
from territory_optimizer.model import Model


def precheck(model: Model, unit_ids: Sequence[str]) -> list[Violation]:
    out: list[Violation] = []
    k = model.k
    for j, name in enumerate(model.metric_names):
        col = model.values[:, j]
        total = col.sum()
        upper = np.full(k, np.inf)
        lower = np.full(k, -np.inf)
        if np.isfinite(model.tolerances[j]):
            tol = model.tolerances[j]
            upper = model.targets[:, j] * (1 + tol)
            lower = model.targets[:, j] * (1 - tol)
            kind = "capacity" if not np.allclose(model.targets[:, j], total / k) else "balance"
            if total > upper.sum() + 1e-9 or total < lower.sum() - 1e-9:
                out.append(
                    Violation(
                        kind,
                        f"{name}: the total {total:,.6g} cannot fit the territories' targets "
                        f"({model.targets[:, j].sum():,.6g} +-{tol * 100:g}%)",
                        metric=name,
                    )
                )
        upper = np.minimum(upper, model.cap_max[j])
        lower = np.maximum(lower, model.cap_min[j])
        biggest = int(np.argmax(col))
        if col[biggest] > upper.max() + 1e-9:
            out.append(
                Violation(
                    "balance" if np.isfinite(model.tolerances[j]) and upper.max() < model.cap_max[j] else "max_total",
                    f"unit {unit_ids[biggest]!r} alone has {name} = {col[biggest]:,.6g}, more than any territory may "
                    f"hold ({upper.max():,.6g})",
                    metric=name,
                )
            )
        if np.isfinite(model.cap_max[j]) and total > k * model.cap_max[j] + 1e-9:
            out.append(
                Violation("max_total", f"{name}: total {total:,.6g} > {k} x max {model.cap_max[j]:,.6g}", metric=name)
            )
        if np.isfinite(model.cap_min[j]) and total < k * model.cap_min[j] - 1e-9:
            out.append(
                Violation("min_total", f"{name}: total {total:,.6g} < {k} x min {model.cap_min[j]:,.6g}", metric=name)
            )
        locked_load = np.zeros(k)
        mask = model.locked >= 0
        np.add.at(locked_load, model.locked[mask], col[mask])
        for t in np.flatnonzero(locked_load > upper + 1e-9):
            out.append(
                Violation(
                    "locked",
                    f"territory {t}: its locked units alone have {name} = {locked_load[t]:,.6g} > {upper[t]:,.6g}",
                    int(t),
                    name,
                )
            )
    n_parts = int(components(model.n, model.edges).max()) + 1 if model.n else 0
    if n_parts > k:
        out.append(
            Violation("contiguity", f"the unit graph has {n_parts} separate parts for {k} territories: link islands")
        )
    if not out:
        # the costlier proof, when the simple checks pass: a unit that no connected group within the bounds holds
        out += granularity_reasons(model, unit_ids)
    return out
