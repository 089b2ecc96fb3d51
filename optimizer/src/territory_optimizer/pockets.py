"""The units with the pockets merged: a group of units that borders the rest of the layer only through one unit, and
is lighter than a territory's lower bound, must share that unit's territory (granularity.py's proofs work on the
merged graph)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


class MergedGraph:
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
    def merged(cls, n: int, edges: np.ndarray, unit_vals: np.ndarray, low: np.ndarray) -> MergedGraph:
        """Merge pockets until none is left: a merged group can make a pocket of its own in turn."""
        labels: np.ndarray = np.arange(n, dtype=np.int64)
        # the original unit through which each merged unit borders the rest
        hub: np.ndarray = np.arange(n, dtype=np.int64)
        heaviest = np.full(len(low), -np.inf)
        while True:
            graph = cls(labels, edges, unit_vals, hub)
            pockets = find_pockets(graph, low)
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


def find_pockets(graph: MergedGraph, low: np.ndarray) -> list[tuple[int, np.ndarray]]:
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
