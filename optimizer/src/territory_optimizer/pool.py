"""Set-partitioning recombination: the best plan that can be assembled from territories already seen.

Every restart's search passes through many balanced, contiguous territories, and the plans they belong to differ
from one restart to the next. The mean compactness of a plan is a sum over its territories, so the most compact plan
made of territories in the pool is a set-partitioning problem (each unit in exactly one chosen territory, one
territory per slot), small enough for HiGHS in a fraction of a second. It combines the good parts of plans that no
single move could join: one restart's north with another's south.

Only territories that meet every constraint on their own go into the pool (balance against the real tolerances,
caps; contiguity holds since they come from searched plans), so any partition of the pool is a feasible plan.
Territories with a home or locked units fill only their own slot; the others are interchangeable between slots with
the same targets.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import coo_matrix

from territory_optimizer import mip
from territory_optimizer.model import Model
from territory_optimizer.search import Search

FOUR_PI = 4.0 * math.pi
NODE_LIMIT = 200  # branch-and-bound nodes per solve: a limit by count keeps a seed's plan the same
# HiGHS's interrupt checks per solve (mip.solve's work_limit): bounds the root's cuts and heuristics, which the node
# limit does not. North Carolina's programs finish within a few; on Iowa's or Kentucky's counties, where the relaxation
# is fractional over many similar territories, the program over grown territories ran 190 to 400 checks (6 to 8 s)
WORK_LIMIT = 20
# The same from a start plan, against which the search prunes from the first node: North Carolina's recombinations
# from the best plan find the same plans with 10 checks as with 20, and Georgia's program takes 0.9 s instead of 1.2 s
START_WORK_LIMIT = 10
# Presolve's probing is left out: it runs before any work check, so the work limit cannot bound it. On Georgia's
# counties it took 5 of the 6 s that the program over grown territories cost, and it found no partition with or
# without it; on Iowa's and Kentucky's it took half. North Carolina's programs are the same without it.
# Columns the integer program takes from a large pool: the best-priced by the linear relaxation's duals. On North
# Carolina K=10 the best-priced 2,000 of 18,000 grown territories gave plans of mean Polsby-Popper 0.397 and 0.387
# where the whole set gave 0.397 and 0.395, in 0.5 s against 30 s; keeping 1,000 or 4,000 did worse over 32 seeds
PRICED = 2000


def slot_classes(model: Model) -> list[int]:
    """The class of each territory slot: slots of one class can take each other's territories."""
    own = set(int(t) for t in model.locked[model.locked >= 0].tolist())
    own |= {t for t in range(model.k) if model.homes[t] >= 0}
    classes: list[int] = []
    by_target: dict[tuple[float, ...], int] = {}
    for t in range(model.k):
        if t in own:
            classes.append(t)
        else:
            classes.append(by_target.setdefault(tuple(model.targets[t].tolist()), t))
    return classes


class TerritoryPool:
    """Feasible territories seen during the search, each with its compactness cost, and the slot class it fills."""

    def __init__(self, model: Model, polsby_popper: bool):
        self.model = model
        self.classes = slot_classes(model)
        self.polsby_popper = polsby_popper
        self.columns: dict[tuple[int, bytes], float] = {}
        self.metrics, self.low, self.high = model.bounds()

    def __len__(self) -> int:
        return len(self.columns)

    def add(self, search: Search) -> None:
        """Every territory of the search's current plan that meets the real constraints on its own."""
        model = self.model
        lab = np.asarray(search.assign, dtype=np.int64)
        loads = np.array([np.bincount(lab, weights=model.values[:, j], minlength=model.k) for j in self.metrics])
        loads = loads.reshape(len(self.metrics), model.k)  # no constrained metric: every territory qualifies
        ok = ((loads >= self.low) & (loads <= self.high)).all(axis=0)
        if not ok.any():
            return
        keys = self._keys(lab)
        for t in np.flatnonzero(ok).tolist():
            key = keys[t]
            if key in self.columns:
                continue
            if self.polsby_popper:
                per = search.per[t]
                cost = 1.0 - FOUR_PI * search.tarea[t] / (per * per) if per > 0 else 0.0
            else:
                cost = search.comp[t]
            self.columns[key] = cost

    def best_partition(
        self, time_limit: float, extra: dict[bytes, float] | None = None, start: list[int] | None = None
    ) -> tuple[list[int], float] | None:
        """The least-cost plan made of pool territories, as (territory per unit, cost); None when the pool holds no
        full partition or the solver finds none in time. `extra` adds territories for this solve only (sorted units'
        bytes -> cost; they must meet every constraint and fit any slot, see `interchangeable`); when the columns
        are more than PRICED, the linear relaxation prices them and the integer program takes the pool's own and
        the PRICED best-priced others. `start`, a plan whose territories are all in the pool (`add` it first), is
        where the integer program begins: the answer is then never worse than it (a start the pool does not hold
        is left out)."""
        if extra and not self.interchangeable:
            raise ValueError("territories grown without a slot in mind fit only interchangeable slots")
        columns = dict(self.columns)
        own = len(columns)
        for units, value in (extra or {}).items():
            columns.setdefault((self.classes[0], units), value)
        if not columns:
            return None
        n = self.model.n
        keys = list(columns)
        cost = np.fromiter((columns[c] for c in keys), dtype=float, count=len(keys))
        # the start's territories are the pool's own, which pricing keeps in place: their indices hold throughout
        given = self._columns_of(start, keys) if start is not None else None
        members = [np.frombuffer(units, dtype=np.int64) for _, units in keys]
        slots: dict[int, list[int]] = {}
        for t, cls in enumerate(self.classes):
            slots.setdefault(cls, []).append(t)
        class_row = {cls: n + q for q, cls in enumerate(slots)}
        rows = np.concatenate(members + [np.array([class_row[cls] for cls, _ in keys], dtype=np.int64)])
        cols = np.concatenate([np.repeat(np.arange(len(keys)), [len(m) for m in members]), np.arange(len(keys))])
        lo = np.concatenate([np.ones(n), [len(slots[cls]) for cls in slots]])
        matrix = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + len(slots), len(keys))).tocsc()
        if len(keys) > own + PRICED:
            duals = mip.relaxation_duals(cost, matrix, lo, lo, time_limit=max(0.1, time_limit))
            if duals is not None:
                reduced = cost - matrix.T @ duals
                chosen = np.concatenate([np.arange(own), own + np.argsort(reduced[own:], kind="stable")[:PRICED]])
                keys = [keys[c] for c in chosen]
                members = [members[c] for c in chosen]
                cost, matrix = cost[chosen], matrix[:, chosen]
        x = mip.solve(
            cost,
            matrix,
            lo,
            lo,
            np.zeros(len(keys)),
            np.ones(len(keys)),
            np.ones(len(keys), dtype=bool),
            time_limit=max(0.1, time_limit),
            node_limit=NODE_LIMIT,
            relax_first=True,
            work_limit=WORK_LIMIT if given is None else START_WORK_LIMIT,
            probing=False,
            start=None if given is None else np.isin(np.arange(len(keys)), given).astype(float),
        )
        if x is None:
            return None
        assign = np.full(n, -1, dtype=np.int64)
        free = {cls: list(ts) for cls, ts in slots.items()}
        total = 0.0
        for c in np.flatnonzero(x > 0.5):
            cls = keys[c][0]
            assign[members[c]] = free[cls].pop(0)
            total += cost[c]
        if (assign < 0).any():
            return None
        return assign.tolist(), total

    def _keys(self, lab: np.ndarray) -> list[tuple[int, bytes]]:
        """Each territory's key in the pool: its slot class and its sorted units' bytes."""
        order = np.argsort(lab, kind="stable")
        bounds = np.searchsorted(lab[order], np.arange(self.model.k + 1))
        return [(self.classes[t], order[bounds[t] : bounds[t + 1]].tobytes()) for t in range(self.model.k)]

    def _columns_of(self, plan: list[int], keys: list[tuple[int, bytes]]) -> np.ndarray | None:
        """The column index of each of the plan's territories; None when the pool lacks one (a plan not added, or
        a territory on the very edge of a bound, where `add`'s test and the search's may round differently)."""
        index = {key: c for c, key in enumerate(keys)}
        found = [index.get(key) for key in self._keys(np.asarray(plan, dtype=np.int64))]
        if None in found:
            return None
        return np.sort(np.asarray(found, dtype=np.int64))

    @property
    def interchangeable(self) -> bool:
        """Every slot takes any territory (no homes, no locked units, one target): territories grown without a slot
        in mind fit."""
        return len(set(self.classes)) == 1
