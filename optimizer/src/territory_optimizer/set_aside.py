"""From an existing alignment: the part of the request no plan can balance, set aside, and what "no worse" means.

A unit heavier than a territory may hold (alone above its territory's upper bound on a balanced or capped metric), or
a territory whose locked units alone are above it, makes that territory unbalanceable whatever else moves. Such a
territory is kept as it is in the source and left out: the other territories are balanced among themselves, to what
is left (the rest of each metric's total over the rest of the territories; a rep's capacity stays their target), and
compared on that. Keeping it as it is (rather than shrinking it towards its heavy unit) keeps the rest's targets
fixed, so that a plan and the source are measured against the same targets, and moves nothing the request cannot
improve on its own terms.

A plan is no worse than the source when, on every balanced metric, its max deviation over the balanceable
territories is no larger than the source's, or is within the tolerance (a plan that meets the request is not worse
for being less tight than a source that met it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from territory_optimizer.model import Model


@dataclass(frozen=True)
class SetAside:
    """The territories kept as they are in the source (indices of the full request), the units that make them
    unbalanceable, and one line per unit or territory saying why."""

    territories: tuple[int, ...]
    units: tuple[int, ...]
    reasons: tuple[str, ...]


def unbalanceable(model: Model, start: list[int], unit_ids: Sequence[str]) -> SetAside:
    """The source's territories that hold a unit heavier than a territory may hold, or locked units that are."""
    metrics, _, high = model.bounds()
    lab = np.asarray(start, dtype=np.int64)
    territories: set[int] = set()
    units: list[int] = []
    reasons: list[str] = []
    for q, j in enumerate(metrics):
        name = model.metric_names[j]
        col = model.values[:, j]
        over = np.flatnonzero(col > high[q, lab])
        for u in over.tolist():
            t = int(lab[u])
            territories.add(t)
            if u not in units:
                units.append(u)
            reasons.append(
                f"unit {unit_ids[u]!r} alone has {name} = {col[u]:,.6g}, more than territory {t} may hold "
                f"({high[q, t]:,.6g})"
            )
        mask = model.locked >= 0
        locked_load = np.bincount(model.locked[mask], weights=col[mask], minlength=model.k)
        for t in np.flatnonzero(locked_load > high[q]).tolist():
            territories.add(int(t))
            reasons.append(f"territory {t}: its locked units alone have {name} = {locked_load[t]:,.6g}")
    return SetAside(tuple(sorted(territories)), tuple(sorted(units)), tuple(reasons))


@dataclass
class Rest:
    """The request without the set-aside territories and their units: `units[i]` is the full index of the rest's
    unit i, `territories[s]` the full index of the rest's territory s."""

    model: Model
    units: np.ndarray
    territories: np.ndarray
    start: np.ndarray  # the full request's starting plan

    def lift(self, plan: list[int]) -> list[int]:
        """The rest's plan as a plan of the full request: the set-aside territories as they started."""
        full = self.start.copy()
        full[self.units] = self.territories[np.asarray(plan, dtype=np.int64)]
        lifted: list[int] = full.tolist()
        return lifted


def rest_of(model: Model, start: list[int], aside: SetAside) -> Rest:
    lab = np.asarray(start, dtype=np.int64)
    kept_t = np.array([t for t in range(model.k) if t not in set(aside.territories)], dtype=np.int64)
    new_t = np.full(model.k, -1, dtype=np.int64)
    new_t[kept_t] = np.arange(len(kept_t))
    keep = np.flatnonzero(new_t[lab] >= 0)
    new_u = np.full(model.n, -1, dtype=np.int64)
    new_u[keep] = np.arange(len(keep))
    k = len(kept_t)
    values = model.values[keep]
    targets = model.targets[kept_t].copy()
    for j in range(len(model.metric_names)):
        if np.allclose(model.targets[:, j], model.values[:, j].sum() / model.k):  # a mean, not rep capacities
            targets[:, j] = values[:, j].sum() / k
    neighbors: list[list[int]] = []
    lengths: list[list[float]] = []
    external = model.external[keep].copy()
    for i, u in enumerate(keep.tolist()):
        nb, ln = [], []
        for v, length in zip(model.neighbors[u], model.neighbor_lengths[u], strict=True):
            if new_u[v] >= 0:
                nb.append(int(new_u[v]))
                ln.append(length)
            else:
                external[i] += length  # a border with a set-aside territory: the outer edge of the rest
        neighbors.append(nb)
        lengths.append(ln)
    inside = (new_u[model.edges[:, 0]] >= 0) & (new_u[model.edges[:, 1]] >= 0)
    edges = new_u[model.edges[inside]].reshape(-1, 2)
    locked = model.locked[keep].copy()
    locked[locked >= 0] = new_t[locked[locked >= 0]]
    homes = model.homes[kept_t].copy()
    homes[homes >= 0] = new_u[homes[homes >= 0]]
    rest = Model(
        n=len(keep),
        k=k,
        metric_names=model.metric_names,
        values=values,
        targets=targets,
        tolerances=model.tolerances,
        cap_min=model.cap_min,
        cap_max=model.cap_max,
        edges=edges,
        neighbors=neighbors,
        neighbor_lengths=lengths,
        coords=model.coords[keep],
        areas=model.areas[keep],
        external=external,
        has_shapes=model.has_shapes,
        locked=locked,
        homes=homes,
        initial=new_t[lab[keep]],
    )
    return Rest(rest, keep, kept_t, lab)


def deviations(model: Model, plan: list[int] | np.ndarray) -> np.ndarray:
    """Each balanced metric's max deviation (a fraction) from the model's targets; nan where not balanced."""
    lab = np.asarray(plan, dtype=np.int64)
    out = np.full(len(model.metric_names), np.nan)
    for j in np.flatnonzero(model.balanced):
        totals = np.bincount(lab, weights=model.values[:, j], minlength=model.k)
        out[j] = float(np.max(np.abs(totals - model.targets[:, j]) / model.targets[:, j]))
    return out


def worse(model: Model, plan: list[int] | np.ndarray, source: np.ndarray) -> bool:
    """Whether `plan` is worse than the source deviations on any balanced metric (see the module's docstring)."""
    dev = deviations(model, plan)
    for j in np.flatnonzero(model.balanced):
        tol = float(model.tolerances[j])
        if max(dev[j], tol) > max(float(source[j]), tol) + 1e-9:
            return True
    return False


def move_budget(model: Model, factor: float, floor_units: float) -> float:
    """The weight of the first balanced metric that moves may carry, in proportion to how far the source is from
    the tolerances: `factor` times the weight that has to change territory at least (the larger of the excess above
    the upper bounds and the shortfall below the lower ones, over every balanced metric, each as a share of its
    total and counted in the first metric's weight), plus `floor_units` units of mean weight (units are coarse)."""
    assert model.initial is not None
    cols = np.flatnonzero(model.balanced)
    first = model.values[:, cols[0]]
    lab = model.initial
    share = 0.0
    for j in cols:
        totals = np.bincount(lab, weights=model.values[:, j], minlength=model.k)
        tg, tol = model.targets[:, j], float(model.tolerances[j])
        over = np.maximum(totals - tg * (1 + tol), 0.0).sum()
        under = np.maximum(tg * (1 - tol) - totals, 0.0).sum()
        total = model.values[:, j].sum()
        if total > 0:
            share = max(share, max(over, under) / total)
    return factor * share * float(first.sum()) + floor_units * float(first.mean())
