"""Balance repair by integer programming: one round picks a set of simultaneous boundary moves (chains of transfers
across many territories at once) that brings every territory within tolerance, or as close as possible.

Moves chosen together are kept safe for contiguity: each territory gives away at most one unit, that unit is not an
articulation point of it, and no two moved units are neighbours (so each lands next to units that stay).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import coo_matrix

from territory_optimizer import mip
from territory_optimizer.graph import stays_connected
from territory_optimizer.search import Search

# Branch-and-bound nodes per round (a limit by count, not seconds, keeps a seed's plan the same). A quick round stops
# at the root, whose heuristics mostly find the moves: proving them best took most of the time for little gain. A
# deep round follows when a quick one finds no move (several metrics at once need it).
QUICK_NODES = 1
DEEP_NODES = 50
# Territories this many steps from one out of tolerance take part in a round: the nearest neighbours carry nearly all
# of a repair's moves; two steps (nearly every territory on a small layer) took a third longer for no better plans
HOPS = 1


def rebalance_round(search: Search, time_limit: float, node_limit: int = DEEP_NODES) -> bool:
    """Apply one round of moves if it lowers the balance violation; returns whether anything moved."""
    s = search
    if s.violation <= 1e-12 or time_limit <= 0.05:
        return False
    assign, k = s.assign, s.k
    involved = _near_violations(s, hops=HOPS)
    cand_u: list[int] = []
    cand_t: list[int] = []
    cand_cost: list[float] = []
    for u, a in enumerate(assign):
        if s.locked[u] >= 0 or s.size[a] <= 1 or a not in involved:
            continue
        targets = {assign[v] for v in s.neighbors[u]} - {a}
        targets &= involved
        if not targets or not stays_connected(u, assign, s.neighbors):
            continue
        for t in sorted(targets):
            cand_u.append(u)
            cand_t.append(t)
            cand_cost.append(_move_cost(s, u, t))
    nc = len(cand_u)
    if nc == 0:
        return False
    tracked = [
        m for m in range(len(s.tracked)) if s.tol[m] != math.inf or s.cmax[m] != math.inf or s.cmin[m] != -math.inf
    ]
    n_slack = k * len(tracked)
    n_var = nc + n_slack
    rows, cols, data, lo, hi = [], [], [], [], []
    r = 0
    # one destination per unit, one unit out per territory
    by_unit: dict[int, list[int]] = {}
    by_source: dict[int, list[int]] = {}
    for c, u in enumerate(cand_u):
        by_unit.setdefault(u, []).append(c)
        by_source.setdefault(assign[u], []).append(c)
    for group in list(by_unit.values()) + list(by_source.values()):
        for c in group:
            rows.append(r)
            cols.append(c)
            data.append(1.0)
        lo.append(-np.inf)
        hi.append(1.0)
        r += 1
    # moved units are not neighbours
    for u, group in by_unit.items():
        for v in s.neighbors[u]:
            if v > u and v in by_unit:
                for c in group + by_unit[v]:
                    rows.append(r)
                    cols.append(c)
                    data.append(1.0)
                lo.append(-np.inf)
                hi.append(1.0)
                r += 1
    # balance and caps, softened by one slack per territory and metric (as a fraction of the target)
    objective = np.zeros(n_var)
    objective[:nc] = np.asarray(cand_cost)
    for q, m in enumerate(tracked):
        for t in sorted(involved):
            upper, lower = math.inf, -math.inf
            tg = s.tgt[m][t]
            if s.tol[m] != math.inf:
                upper, lower = tg * (1 + s.tol[m]), tg * (1 - s.tol[m])
            upper, lower = min(upper, s.cmax[m]), max(lower, s.cmin[m])
            scale = tg if s.tol[m] != math.inf else s.cref[m]
            slack = nc + q * k + t
            objective[slack] = s.w.balance * 100.0
            terms = [(c, s.vals[m][cand_u[c]]) for c in by_source.get(t, [])]
            terms += [(c, -s.vals[m][cand_u[c]]) for c in range(nc) if cand_t[c] == t]
            load = s.load[m][t]
            for bound, sign in ((upper, 1.0), (lower, -1.0)):
                if not math.isfinite(bound):
                    continue
                # sign * (load - out + in) - scale * slack <= sign * bound
                for c, coef in terms:
                    if coef:
                        rows.append(r)
                        cols.append(c)
                        data.append(-sign * coef)
                rows.append(r)
                cols.append(slack)
                data.append(-scale)
                lo.append(-np.inf)
                hi.append(sign * (bound - load))
                r += 1
    if s.initial is not None and s.max_moved is not None:
        for c, u in enumerate(cand_u):
            d = s.dval[u] if s.initial[u] == assign[u] else (-s.dval[u] if s.initial[u] == cand_t[c] else 0.0)
            rows.append(r)
            cols.append(c)
            data.append(d)
        lo.append(-np.inf)
        hi.append(s.max_moved - s.moved)
        r += 1
    matrix = coo_matrix((np.asarray(data), (np.asarray(rows), np.asarray(cols))), shape=(r, n_var)).tocsr()
    # a node limit (not only time) keeps the round deterministic; the time limit is a safety net
    x = mip.solve(
        objective,
        matrix,
        np.asarray(lo),
        np.asarray(hi),
        np.zeros(n_var),
        np.concatenate([np.ones(nc), np.full(n_slack, np.inf)]),
        np.concatenate([np.ones(nc, dtype=bool), np.zeros(n_slack, dtype=bool)]),
        time_limit=max(0.1, time_limit),
        node_limit=node_limit,
        gap=1e-3,
    )
    if x is None:
        return False
    chosen = [c for c in range(nc) if x[c] > 0.5]
    if not chosen:
        return False
    before_v, before_cost = s.violation, s.cost()
    undo = [(cand_u[c], assign[cand_u[c]]) for c in chosen]
    for c in chosen:
        s.move(cand_u[c], cand_t[c])
    if s.violation < before_v - 1e-12 or (s.violation <= before_v + 1e-12 and s.cost() < before_cost - 1e-12):
        return True
    for u, a in reversed(undo):
        s.move(u, a)
    return False


def _near_violations(s: Search, hops: int) -> set[int]:
    """Territories out of tolerance and those up to `hops` steps from them on the territory graph."""
    out = {t for t in range(s.k) if any(s.exc[m][t] > 1e-12 for m in range(len(s.tracked)))}
    frontier = set(out)
    for _ in range(hops):
        nxt = set()
        for u, a in enumerate(s.assign):
            if a in frontier:
                for v in s.neighbors[u]:
                    b = s.assign[v]
                    if b not in out:
                        nxt.add(b)
        out |= nxt
        frontier = nxt
    return out


def _move_cost(s: Search, u: int, t: int) -> float:
    """Compactness and disruption change of moving u alone to t (balance is handled by the constraints)."""
    before = s.compactness + s.w.disruption * s.moved
    a = s.assign[u]
    s.move(u, t)
    after = s.compactness + s.w.disruption * s.moved
    s.move(u, a)
    return after - before
