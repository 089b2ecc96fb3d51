"""Mid-year changes that touch only the territories around the change: a rep leaves, or a rep joins.

Both solve a sub-problem on the units of the touched territories only (the rest of the alignment is untouched),
with the existing plan as the starting point and the number of units that change territory minimised. Balance is
measured among the touched territories (their total over their new count).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from territory_optimizer.problem import Geometry, Options, Problem, ProblemError
from territory_optimizer.solver import Plan, optimize


@dataclass(frozen=True)
class ChangePlan:
    """The whole alignment after the change (territory indices of the original plan; a new territory gets index K)
    and the sub-plan with its real figures over the touched territories."""

    assignment: np.ndarray
    touched: tuple[int, ...]  # original territory indices that may have changed (plus the new one)
    plan: Plan


def rep_leaves(problem: Problem, current: np.ndarray, leaving: int, options: Options | None = None) -> ChangePlan:
    """Redistribute territory `leaving` among its neighbouring territories."""
    current = np.asarray(current, dtype=np.int64)
    k = int(current.max()) + 1
    if not 0 <= leaving < k:
        raise ProblemError(f"territory {leaving} does not exist")
    neighbours = _neighbour_territories(problem, current, leaving)
    if not neighbours:
        raise ProblemError(f"territory {leaving} has no neighbouring territory to take its units")
    units = np.flatnonzero(np.isin(current, neighbours + [leaving]))
    local = {t: q for q, t in enumerate(neighbours)}
    start = np.array([local.get(int(current[u]), -1) for u in units])
    sub = _subproblem(problem, units)
    _grow_into(sub, start)
    sub = replace(sub, k=len(neighbours), reps=None, initial=start, locked=_locked(problem, units, current, local))
    plan = optimize(sub, replace(options or Options(), disruption="units"))
    out = current.copy()
    out[units] = np.asarray(neighbours)[plan.assignment]
    return ChangePlan(out, tuple(neighbours), plan)


def rep_joins(
    problem: Problem, current: np.ndarray, home: int, options: Options | None = None, rings: int = 1
) -> ChangePlan:
    """Carve a new territory (index K) around unit `home` from the territory holding it and its neighbours
    (`rings` steps out on the territory graph)."""
    current = np.asarray(current, dtype=np.int64)
    k = int(current.max()) + 1
    if not 0 <= home < len(current):
        raise ProblemError(f"home unit index {home} is out of range")
    touched = [int(current[home])]
    frontier = list(touched)
    for _ in range(rings):
        nxt = []
        for t in frontier:
            for s in _neighbour_territories(problem, current, t):
                if s not in touched:
                    touched.append(s)
                    nxt.append(s)
        frontier = nxt
    touched.sort()
    units = np.flatnonzero(np.isin(current, touched))
    local = {t: q for q, t in enumerate(touched)}
    new_local = len(touched)
    start = np.array([local[int(current[u])] for u in units])
    home_local = int(np.flatnonzero(units == home)[0])
    start[home_local] = new_local
    locked = _locked(problem, units, current, local)
    if home_local in locked and locked[home_local] != new_local:
        raise ProblemError(f"unit {problem.unit_ids[home]!r} is locked to another territory")
    locked[home_local] = new_local
    sub = replace(_subproblem(problem, units), k=len(touched) + 1, reps=None, initial=start, locked=locked)
    plan = optimize(sub, replace(options or Options(), disruption="units"))
    mapping = np.asarray(touched + [k])
    out = current.copy()
    out[units] = mapping[plan.assignment]
    return ChangePlan(out, tuple(touched) + (k,), plan)


def _neighbour_territories(problem: Problem, current: np.ndarray, t: int) -> list[int]:
    edges = np.asarray(problem.edges, dtype=np.int64).reshape(-1, 2)
    a, b = current[edges[:, 0]], current[edges[:, 1]]
    found = set(b[(a == t) & (b != t)].tolist()) | set(a[(b == t) & (a != t)].tolist())
    return sorted(int(x) for x in found)


def _locked(problem: Problem, units: np.ndarray, current: np.ndarray, local: dict[int, int]) -> dict[int, int]:
    pos = {int(u): q for q, u in enumerate(units)}
    out = {}
    for u, t in problem.locked.items():
        if u in pos and t in local:
            out[pos[u]] = local[t]
    if problem.reps is not None:
        for t, rep in enumerate(problem.reps):
            if rep.home is not None and rep.home in pos and t in local:
                out[pos[rep.home]] = local[t]
    return out


def _subproblem(problem: Problem, units: np.ndarray) -> Problem:
    pos = {int(u): q for q, u in enumerate(units)}
    edges = np.asarray(problem.edges, dtype=np.int64).reshape(-1, 2)
    keep = np.array([int(a) in pos and int(b) in pos for a, b in edges.tolist()], dtype=bool)
    sub_edges = np.array([[pos[int(a)], pos[int(b)]] for a, b in edges[keep].tolist()], dtype=np.int64).reshape(-1, 2)
    geometry = None
    if problem.geometry is not None:
        g = problem.geometry
        geometry = Geometry(
            coords=np.asarray(g.coords)[units],
            areas=None if g.areas is None else np.asarray(g.areas)[units],
            border_lengths=None if g.border_lengths is None else np.asarray(g.border_lengths)[keep],
            perimeters=None if g.perimeters is None else np.asarray(g.perimeters)[units],
        )
    metrics = [replace(m, values=np.asarray(m.values, dtype=float)[units]) for m in problem.metrics]
    return Problem(
        unit_ids=[problem.unit_ids[int(u)] for u in units],
        metrics=metrics,
        edges=sub_edges,
        k=1,
        geometry=geometry,
        capacity_metric=None,
    )


def _grow_into(sub: Problem, start: np.ndarray) -> None:
    """Give unassigned units (-1) the territory of the nearest assigned unit, breadth first (in place)."""
    n = len(start)
    neighbors: list[list[int]] = [[] for _ in range(n)]
    for a, b in np.asarray(sub.edges).tolist():
        neighbors[a].append(b)
        neighbors[b].append(a)
    queue = deque(int(u) for u in np.flatnonzero(start >= 0))
    while queue:
        u = queue.popleft()
        for v in neighbors[u]:
            if start[v] < 0:
                start[v] = start[u]
                queue.append(v)
    if (start < 0).any():
        raise ProblemError("some units of the leaving territory are not connected to any neighbouring territory")
