"""Reasons in the units' granularity that no plan can meet the bounds, found before searching.

A territory is a connected group of units. When no connected group holding some unit has every constrained metric
within a territory's bounds, no plan can meet them, however long the search. Virginia's counties at K=10, weight
the square root of population, +-1%: Arlington, Alexandria and Falls Church border only one another and Fairfax
County within the state, so they share Fairfax's territory, and every group around them is either short of the
band or over it. No single unit is too heavy, so the simple checks (feasibility.py) pass.

Most units lie in many groups within the bounds, and random growth from each unit finds one at once. Only the units
that growth never covers go to an integer program: a connected group holding the unit (a single-commodity flow from
it), over the units near enough to fit in one territory with it, that either finds a group within the bounds or
proves there is none. For one metric, two more programs give the nearest a group comes to the band from below and
from above, the figures a planner needs to choose a tolerance or a K that can be met.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numba import njit

from territory_optimizer.figures import Violation
from territory_optimizer.group_program import GroupProgram
from territory_optimizer.model import Model
from territory_optimizer.pockets import MergedGraph

GROWTHS = 12  # random growths from each unit not yet covered
SEED = 0  # the growth's own seed: the reasons do not depend on the run's seed
MAX_PROOFS = 8  # uncovered units put to the integer program at most
SHOWN = 3  # proven units named in the reason


@njit(cache=True, nogil=True)
def _cover(  # pragma: no cover - compiled
    seed: int, growths: int, ptr: np.ndarray, idx: np.ndarray, vals: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Units found in a connected group within [low, high] on every metric, by random growth from each unit that no
    earlier group covered: at each step every neighbouring unit that would complete a group is tried, then one that
    keeps every metric under its upper bound is added at random."""
    np.random.seed(seed)
    n = ptr.shape[0] - 1
    n_m = vals.shape[0]
    covered = np.zeros(n, dtype=np.bool_)
    inside = np.zeros(n, dtype=np.bool_)
    mark = np.zeros(n, dtype=np.int64)
    members = np.empty(n, dtype=np.int64)
    cand = np.empty(n, dtype=np.int64)
    load = np.empty(n_m)
    stamp = 0
    for root in range(n):
        for _ in range(growths):
            if covered[root]:
                break
            size = 1
            members[0] = root
            inside[root] = True
            fits = True
            for m in range(n_m):
                load[m] = vals[m, root]
                if load[m] < low[m] or load[m] > high[m]:
                    fits = False
            if fits:
                covered[root] = True
            while not covered[root]:
                stamp += 1
                n_c = 0
                done = -1
                for q in range(size):
                    u = members[q]
                    for z in range(ptr[u], ptr[u + 1]):
                        v = idx[z]
                        if inside[v] or mark[v] == stamp:
                            continue
                        mark[v] = stamp
                        under = True
                        over = True
                        for m in range(n_m):
                            x = load[m] + vals[m, v]
                            if x > high[m]:
                                under = False
                            if x < low[m]:
                                over = False
                        if not under:
                            continue
                        if over:
                            done = v
                        cand[n_c] = v
                        n_c += 1
                if done >= 0:
                    covered[done] = True
                    for q in range(size):
                        covered[members[q]] = True
                    break
                if n_c == 0:
                    break
                v = cand[np.random.randint(0, n_c)]
                inside[v] = True
                members[size] = v
                size += 1
                for m in range(n_m):
                    load[m] += vals[m, v]
            for q in range(size):
                inside[members[q]] = False
    return covered


def granularity_reasons(model: Model, unit_ids: Sequence[str]) -> list[Violation]:
    """A reason when some unit can be in no connected group within every territory's bounds (proven by an integer
    program), naming such units; empty when growth or the programs find a group for every unit they try."""
    metrics, low_t, high_t = model.bounds()
    if not metrics or model.n == 0:
        return []
    # the loosest bounds over the territories: a group outside them fits no territory
    low, high = low_t.min(axis=1), high_t.max(axis=1)
    edges = np.asarray(model.edges, dtype=np.int64).reshape(-1, 2)
    graph = MergedGraph.merged(model.n, edges[edges[:, 0] != edges[:, 1]], model.values[:, metrics].T, low)
    covered = _cover(SEED, GROWTHS, graph.ptr, graph.idx, graph.vals, low, high)
    proven: list[int] = []
    nearest: list[tuple[tuple[str, float | None], tuple[str, float | None]]] = []
    for root in np.flatnonzero(~covered)[:MAX_PROOFS].tolist():
        program = GroupProgram(graph, low, high, root)
        status, _ = program.solve(np.zeros(program.n_var), program.low, program.high)
        if status != "infeasible":
            continue
        if len(metrics) == 1:
            # the lightest group over the bounds may reach further: one unit past them at most
            wider = GroupProgram(graph, low, high, root, reach=high + graph.vals.max(axis=1))
            nearest.append((program.heaviest_at_most(low[0]), wider.lightest_at_least(high[0])))
        proven.append(root)
    if not proven:
        return []
    names = [model.metric_names[j] for j in metrics]
    first = graph.members[proven[0]]
    if len(first) > 1:
        hub = unit_ids[graph.hub[proven[0]]]
        who = (
            f"units {_listed(first, unit_ids)} must share one territory (the lighter ones border the other units "
            f"only through {hub!r}), and"
        )
    else:
        who = f"unit {unit_ids[first[0]]!r}"
    also = ""
    if len(proven) > 1:
        others = [u for q in proven[1:] for u in graph.members[q]]
        also = f"; so are {'units' if len(others) > 1 else 'unit'} {_listed(others, unit_ids)}"
    them = "them" if len(first) > 1 else "it"
    least = None
    bounds = ", ".join(f"{name} {_band(lo, hi)}" for name, lo, hi in zip(names, low, high, strict=True))
    if len(metrics) == 1:
        (_, below), (_, above) = nearest[0]
        reach = []
        if below is not None:
            reach.append(f"at most {below:,.6g}")
        if above is not None:
            reach.append(f"at least {above:,.6g}")
        said = f"has {names[0]} of {' or '.join(reach)}" if reach else f"misses {names[0]}'s bounds"
        detail = f"every connected group of units holding {them} {said}, none within {bounds}"
        target = model.targets[0, metrics[0]]
        if np.allclose(model.targets[:, metrics[0]], target):
            # each proven unit's territory is one of its groups: a bound on every plan's max deviation
            gaps = [(g, q) for q, sides in zip(proven, nearest, strict=True) if (g := _gap(sides, target)) is not None]
            gap, q = max(gaps, key=lambda pair: pair[0]) if gaps else (0.0, -1)  # the first of equal gaps
            # The groups hold merged units: a plan whose every territory is within `gap` has them merged too only if
            # each pocket is too light for such a territory, so a pocket nearer the target lowers the bound (the
            # Eastern Shore's chain of pockets into Baltimore County in Maryland, 0.96 of a target at K=4)
            where = "" if q == proven[0] else f" (the one holding {unit_ids[graph.members[q][0]]!r})"
            if 1.0 - graph.heaviest_pocket[0] / target < gap:
                gap, where = 1.0 - graph.heaviest_pocket[0] / target, ""
            if q >= 0 and gap > model.tolerances[metrics[0]]:
                detail += f", so in every plan some territory{where} is {gap * 100:.2f}% or more off its target"
                least = gap
    else:
        detail = f"no connected group of units holding {them} meets every bound at once ({bounds})"
    j = metrics[0]
    kind = "balance" if np.isfinite(model.tolerances[metrics]).any() else _cap_kind(model, j)
    if kind == "balance" and not np.allclose(model.targets[:, j], model.targets[0, j]):
        kind = "capacity"
    return [
        Violation(
            kind,
            f"{who} cannot be in any territory within the bounds: {detail}{also}",
            metric=names[0] if len(metrics) == 1 else None,
            least_deviation=least,
        )
    ]


def _gap(sides: tuple[tuple[str, float | None], tuple[str, float | None]], target: float) -> float | None:
    """How far from the target the nearest group on either side is, as a fraction; None unless both are proven."""
    (below_status, below), (above_status, above) = sides
    if "unknown" in (below_status, above_status):
        return None
    gaps = [(target - below) / target] if below is not None else []
    gaps += [(above - target) / target] if above is not None else []
    return min(gaps) if gaps else None


def _listed(units: Iterable[int], unit_ids: Sequence[str]) -> str:
    """'a' / 'a' and 'b' / 'a', 'b', 'c' and 4 more."""
    names = [repr(unit_ids[u]) for u in units]
    if len(names) > SHOWN:
        return ", ".join(names[:SHOWN]) + f" and {len(names) - SHOWN} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _band(lo: float, hi: float) -> str:
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{lo:,.6g} to {hi:,.6g}"
    return f">= {lo:,.6g}" if np.isfinite(lo) else f"<= {hi:,.6g}"


def _cap_kind(model: Model, j: int) -> str:
    return "max_total" if np.isfinite(model.cap_max[j]) else "min_total"
