"""Whether a connected group of units holding a given unit can be within bounds: an integer program that finds one
or proves there is none, and the lightest or heaviest such group (granularity.py's proofs, and tools that bound a
request by hand)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from territory_optimizer import mip
from territory_optimizer.pockets import MergedGraph

# Limits of one proof. Counts keep the answer the same on every machine; the seconds are a safety limit only (the
# programs over Virginia's groups take a few hundredths of a second)
PROOF_NODES = 2000
PROOF_WORK = 200
PROOF_SECONDS = 5.0


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
    program = GroupProgram(MergedGraph(units, np.asarray(edges, dtype=np.int64), values, units), low, high, root)
    return program.heaviest_at_most(high[0]) if heaviest else program.lightest_at_least(low[0])


class GroupProgram:
    """Connected groups holding `root` as an integer program: x[v] = 1 when unit v is in the group, connected by a
    single-commodity flow from the root, each other chosen unit keeping one unit of flow, carried only between
    chosen units. Only units whose lightest path from the root fits under every upper bound can be in a group."""

    def __init__(
        self, graph: MergedGraph, low: np.ndarray, high: np.ndarray, root: int, reach: np.ndarray | None = None
    ):
        reach = high if reach is None else reach  # the bound on a path's weight from the root
        n, edges, vals = graph.n, graph.edges, graph.vals
        near = np.ones(n, dtype=bool)
        for m in np.flatnonzero(np.isfinite(reach)).tolist():
            # a path's weight counts its units; the weight of an arc is its head's (a hair more, so that units of
            # zero weight stay arcs of the sparse graph)
            hair = 1e-12 * max(1.0, float(vals[m].max()))
            w = vals[m] + hair
            weighted = csr_matrix(
                (np.concatenate([w[edges[:, 1]], w[edges[:, 0]]]),
                 (np.concatenate([edges[:, 0], edges[:, 1]]), np.concatenate([edges[:, 1], edges[:, 0]]))),
                shape=(n, n),
            )  # fmt: skip
            # the hairs (n at most on a path) and rounding must not push out a unit whose path is exactly at the
            # bound: with whole numbers such as account counts, that is where a group fits exactly
            slack = n * hair + 1e-9 * max(1.0, abs(float(reach[m])))
            # scipy takes a single source index, which scipy-stubs' overloads leave out (they take arrays only)
            nearest = dijkstra(weighted, indices=root, min_only=True)  # type: ignore[call-overload]
            near &= nearest + vals[m, root] <= reach[m] + slack
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
        lo: list[np.ndarray | list[float]] = []
        hi: list[np.ndarray | list[float]] = []
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

    def solve(
        self, cost: np.ndarray, low: np.ndarray, high: np.ndarray
    ) -> tuple[Literal["optimal", "infeasible", "unknown"], np.ndarray | None]:
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
