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

import numpy as np
from numba import njit
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from territory_optimizer import mip
from territory_optimizer.figures import Violation
from territory_optimizer.model import Model

GROWTHS = 12  # random growths from each unit not yet covered
SEED = 0  # the growth's own seed: the reasons do not depend on the run's seed
MAX_PROOFS = 8  # uncovered units put to the integer program at most
SHOWN = 3  # proven units named in the reason
# Limits of one proof. Counts keep the answer the same on every machine; the seconds are a safety limit only (the
# programs over Virginia's groups take a few hundredths of a second)
PROOF_NODES = 2000
PROOF_WORK = 200
PROOF_SECONDS = 5.0


@njit(cache=True, nogil=True)
def _cover(seed, growths, ptr, idx, vals, low, high):  # pragma: no cover - compiled
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


def granularity_reasons(model: Model, unit_ids) -> list[Violation]:
    """A reason when some unit can be in no connected group within every territory's bounds (proven by an integer
    program), naming such units; empty when growth or the programs find a group for every unit they try."""
    metrics, low_t, high_t = model.bounds()
    if not metrics or model.n == 0:
        return []
    # the loosest bounds over the territories: a group outside them fits no territory
    low, high = low_t.min(axis=1), high_t.max(axis=1)
    edges = np.asarray(model.edges, dtype=np.int64).reshape(-1, 2)
    graph = _Graph.merged(model.n, edges[edges[:, 0] != edges[:, 1]], model.values[:, metrics].T, low)
    covered = _cover(SEED, GROWTHS, graph.ptr, graph.idx, graph.vals, low, high)
    proven: list[int] = []
    nearest: list[tuple[tuple[str, float | None], tuple[str, float | None]]] = []
    for root in np.flatnonzero(~covered)[:MAX_PROOFS].tolist():
        program = _GroupProgram(graph, low, high, root)
        status, _ = program.solve(np.zeros(program.n_var), program.low, program.high)
        if status != "infeasible":
            continue
        if len(metrics) == 1:
            # the lightest group over the bounds may reach further: one unit past them at most
            wider = _GroupProgram(graph, low, high, root, reach=high + graph.vals.max(axis=1))
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


def _gap(sides, target: float) -> float | None:
    """How far from the target the nearest group on either side is, as a fraction; None unless both are proven."""
    (below_status, below), (above_status, above) = sides
    if "unknown" in (below_status, above_status):
        return None
    gaps = [(target - below) / target] if below is not None else []
    gaps += [(above - target) / target] if above is not None else []
    return min(gaps) if gaps else None


def _listed(units, unit_ids) -> str:
    """'a' / 'a' and 'b' / 'a', 'b', 'c' and 4 more."""
    names = [repr(unit_ids[u]) for u in units]
    if len(names) > SHOWN:
        return ", ".join(names[:SHOWN]) + f" and {len(names) - SHOWN} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class _Graph:
    """The units with the pockets merged: a group of units that borders the rest only through one unit (the hub),
    and is lighter than a territory's lower bound, cannot hold a territory of its own, so its units share the hub's
    territory and count as one unit with it."""

    def __init__(self, labels: np.ndarray, edges: np.ndarray, unit_vals: np.ndarray, hub: np.ndarray):
        self.n = int(labels.max()) + 1
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(self.n + 1))
        self.members = [order[bounds[q] : bounds[q + 1]] for q in range(self.n)]
        self.hub = hub
        self.heaviest_pocket = np.full(len(unit_vals), -np.inf)  # per metric, over every merge (set by `merged`)
        self.vals = np.ascontiguousarray(
            np.array([np.bincount(labels, weights=row, minlength=self.n) for row in unit_vals]).reshape(-1, self.n)
        )
        merged = labels[edges]
        merged = merged[merged[:, 0] != merged[:, 1]]
        self.edges = np.unique(np.sort(merged, axis=1), axis=0) if len(merged) else np.empty((0, 2), dtype=np.int64)
        both = np.concatenate([self.edges, self.edges[:, ::-1]])
        both = both[np.lexsort((both[:, 1], both[:, 0]))]
        self.ptr = np.searchsorted(both[:, 0], np.arange(self.n + 1)).astype(np.int64)
        self.idx = np.ascontiguousarray(both[:, 1], dtype=np.int64)

    @classmethod
    def merged(cls, n: int, edges: np.ndarray, unit_vals: np.ndarray, low: np.ndarray) -> _Graph:
        """Merge pockets until none is left: a merged group can make a pocket of its own in turn."""
        labels = np.arange(n, dtype=np.int64)
        hub = np.arange(n, dtype=np.int64)  # the original unit through which each merged unit borders the rest
        heaviest = np.full(len(low), -np.inf)
        while True:
            graph = cls(labels, edges, unit_vals, hub)
            pockets = _pockets(graph, low)
            if not pockets:
                graph.heaviest_pocket = heaviest
                return graph
            for _, members in pockets:
                heaviest = np.maximum(heaviest, graph.vals[:, members].sum(axis=1))
            tails = np.concatenate([np.full(len(members), cut) for cut, members in pockets])
            heads = np.concatenate([members for _, members in pockets])
            joined = coo_matrix((np.ones(len(tails)), (tails, heads)), shape=(graph.n, graph.n))
            _, relabel = connected_components(joined, directed=False)
            # a merged unit's hub: the cut unit of its largest pocket (of a chain of pockets, the outermost)
            new_hub = np.empty(int(relabel.max()) + 1, dtype=np.int64)
            new_hub[relabel] = graph.hub
            for cut, _ in sorted(pockets, key=lambda pocket: len(pocket[1])):
                new_hub[relabel[cut]] = graph.hub[cut]
            labels, hub = relabel[labels], new_hub


def _pockets(graph: _Graph, low: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(cut unit, units) for every part of the graph that a single unit cuts off and that is lighter than `low` on
    some metric: Tarjan's depth-first search for cut vertices, with each subtree's load."""
    n, ptr, idx, vals = graph.n, graph.ptr, graph.idx, graph.vals
    disc = np.full(n, -1, dtype=np.int64)
    lowlink = np.zeros(n, dtype=np.int64)
    size = np.ones(n, dtype=np.int64)
    load = vals.copy()
    preorder = np.empty(n, dtype=np.int64)
    clock = 0
    out: list[tuple[int, np.ndarray]] = []
    for start in range(n):
        if disc[start] >= 0:
            continue
        first = clock
        disc[start] = lowlink[start] = clock
        preorder[clock] = start
        clock += 1
        stack = [(start, -1, int(ptr[start]))]
        cut_off: dict[int, list[int]] = {}
        while stack:
            u, parent, z = stack[-1]
            if z < ptr[u + 1]:
                stack[-1] = (u, parent, z + 1)
                v = int(idx[z])
                if disc[v] < 0:
                    disc[v] = lowlink[v] = clock
                    preorder[clock] = v
                    clock += 1
                    stack.append((v, u, int(ptr[v])))
                elif v != parent:
                    lowlink[u] = min(lowlink[u], disc[v])
                continue
            stack.pop()
            if parent >= 0:
                lowlink[parent] = min(lowlink[parent], lowlink[u])
                size[parent] += size[u]
                load[:, parent] += load[:, u]
                if lowlink[u] >= disc[parent]:  # u's subtree is a part of the graph without `parent`
                    cut_off.setdefault(parent, []).append(u)
        part = preorder[first:clock]
        total = load[:, start]
        for cut, children in cut_off.items():
            for child in children:
                if (load[:, child] < low).any():
                    out.append((cut, preorder[disc[child] : disc[child] + size[child]]))
            if cut == start:
                continue
            # the rest of the part, on the cut unit's parent's side
            rest = total - vals[:, cut] - sum(load[:, c] for c in children)
            if (rest < low).any():
                inside = np.zeros(n, dtype=bool)
                inside[part] = True
                inside[cut] = False
                for c in children:
                    inside[preorder[disc[c] : disc[c] + size[c]]] = False
                out.append((cut, np.flatnonzero(inside)))
    return out


def _band(lo: float, hi: float) -> str:
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{lo:,.6g} to {hi:,.6g}"
    return f">= {lo:,.6g}" if np.isfinite(lo) else f"<= {hi:,.6g}"


def _cap_kind(model: Model, j: int) -> str:
    return "max_total" if np.isfinite(model.cap_max[j]) else "min_total"


def extreme_group(
    edges: np.ndarray, values: np.ndarray, low: np.ndarray, high: np.ndarray, root: int, heaviest: bool = False
) -> tuple[str, float | None]:
    """The lightest (or heaviest) load on metric 0 of a connected group of units holding `root` with every metric m
    within [low[m], high[m]] (values: metrics x units): ("optimal", load), ("infeasible", None) when no group exists,
    ("unknown", None) when the proofs' limits end the search first. What a territory around one unit can reach, for
    tools that bound a request by hand (benchmarks/optimizer_bounds.py)."""
    values = np.ascontiguousarray(values, dtype=float)
    n = values.shape[1]
    units = np.arange(n, dtype=np.int64)
    program = _GroupProgram(_Graph(units, np.asarray(edges, dtype=np.int64), values, units), low, high, root)
    return program.heaviest_at_most(high[0]) if heaviest else program.lightest_at_least(low[0])


class _GroupProgram:
    """Connected groups holding `root` as an integer program: x[v] = 1 when unit v is in the group, connected by a
    single-commodity flow from the root, each other chosen unit keeping one unit of flow, carried only between
    chosen units. Only units whose lightest path from the root fits under every upper bound can be in a group."""

    def __init__(self, graph: _Graph, low: np.ndarray, high: np.ndarray, root: int, reach=None):
        reach = high if reach is None else reach  # the bound on a path's weight from the root
        n, edges, vals = graph.n, graph.edges, graph.vals
        near = np.ones(n, dtype=bool)
        for m in np.flatnonzero(np.isfinite(reach)):
            # a path's weight counts its units; the weight of an arc is its head's (a hair more, so that units of
            # zero weight stay arcs of the sparse graph)
            hair = 1e-12 * max(1.0, float(vals[m].max()))
            w = vals[m] + hair
            arcs = csr_matrix(
                (np.concatenate([w[edges[:, 1]], w[edges[:, 0]]]),
                 (np.concatenate([edges[:, 0], edges[:, 1]]), np.concatenate([edges[:, 1], edges[:, 0]]))),
                shape=(n, n),
            )  # fmt: skip
            # the hairs (n at most on a path) and rounding must not push out a unit whose path is exactly at the
            # bound: with whole numbers such as account counts, that is where a group fits exactly
            slack = n * hair + 1e-9 * max(1.0, abs(float(reach[m])))
            near &= dijkstra(arcs, indices=root, min_only=True) + vals[m, root] <= reach[m] + slack
        near[root] = True  # a root over the bounds on its own has no group: the bounds rows say so
        units = np.flatnonzero(near)
        local = np.full(n, -1, dtype=np.int64)
        local[units] = np.arange(len(units))
        inner = edges[near[edges[:, 0]] & near[edges[:, 1]]]
        pairs = local[inner]
        arcs = np.concatenate([pairs, pairs[:, ::-1]]) if len(pairs) else np.empty((0, 2), dtype=np.int64)
        n_u, n_a = len(units), len(arcs)
        r = int(local[root])
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        data: list[np.ndarray] = []
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []
        row = 0
        metric_rows = []
        for m in range(len(low)):  # the bounds, one row per metric
            metric_rows.append(row)
            rows.append(np.full(n_u, row))
            cols.append(np.arange(n_u))
            data.append(vals[m, units])
            lo.append([low[m]])
            hi.append([high[m]])
            row += 1
        a = np.arange(n_a)
        for end in (0, 1):  # flow only between chosen units: f[a] <= n_u * x[tail], f[a] <= n_u * x[head]
            rows += [row + a, row + a]
            cols += [n_u + a, arcs[:, end]]
            data += [np.ones(n_a), np.full(n_a, -float(n_u))]
            lo.append(np.full(n_a, -np.inf))
            hi.append(np.zeros(n_a))
            row += n_a
        others = np.array([v for v in range(n_u) if v != r], dtype=np.int64)
        keep = np.full(n_u, -1, dtype=np.int64)
        keep[others] = row + np.arange(len(others))
        # every chosen unit but the root keeps one unit of flow: inflow - outflow - x[v] >= 0
        heads, tails = keep[arcs[:, 1]], keep[arcs[:, 0]]
        rows += [heads[heads >= 0], tails[tails >= 0], keep[others]]
        cols += [n_u + a[heads >= 0], n_u + a[tails >= 0], others]
        data += [np.ones(int((heads >= 0).sum())), -np.ones(int((tails >= 0).sum())), -np.ones(len(others))]
        lo.append(np.zeros(len(others)))
        hi.append(np.full(len(others), np.inf))
        row += len(others)
        self.n_var = n_u + n_a
        self.n_units = n_u
        self.metric_rows = metric_rows
        self.values = vals[:, units]
        self.matrix = coo_matrix(
            (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(row, self.n_var)
        ).tocsc()
        self.low = np.concatenate([np.asarray(x, dtype=float) for x in lo])
        self.high = np.concatenate([np.asarray(x, dtype=float) for x in hi])
        self.col_lower = np.zeros(self.n_var)
        self.col_lower[r] = 1.0  # the root is in its group
        self.col_upper = np.concatenate([np.ones(n_u), np.full(n_a, float(n_u))])
        self.integer = np.concatenate([np.ones(n_u, dtype=bool), np.zeros(n_a, dtype=bool)])

    def solve(self, cost: np.ndarray, low: np.ndarray, high: np.ndarray):
        return mip.optimum(
            cost, self.matrix, low, high, self.col_lower, self.col_upper, self.integer,
            time_limit=PROOF_SECONDS, node_limit=PROOF_NODES, work_limit=PROOF_WORK,
        )  # fmt: skip

    def lightest_at_least(self, bound: float) -> tuple[str, float | None]:
        """For one metric: ("optimal", the lightest group's load) among groups with at least `bound`; ("infeasible",
        None) when there is none; ("unknown", None) when the limits end the search first."""
        return self._extreme(1.0, bound, np.inf)

    def heaviest_at_most(self, bound: float) -> tuple[str, float | None]:
        """For one metric: the heaviest group with at most `bound`, as `lightest_at_least` says it."""
        return self._extreme(-1.0, -np.inf, bound)

    def _extreme(self, sign: float, lo: float, hi: float) -> tuple[str, float | None]:
        row = self.metric_rows[0]
        low, high = self.low.copy(), self.high.copy()
        low[row], high[row] = lo, hi
        cost = np.concatenate([sign * self.values[0], np.zeros(self.n_var - self.n_units)])
        status, x = self.solve(cost, low, high)
        if status == "optimal" and x is not None:
            return status, float(self.values[0] @ x[: self.n_units])
        return ("infeasible" if status == "infeasible" else "unknown"), None
