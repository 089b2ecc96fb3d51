"""Starting plans from a multilevel graph partitioner (METIS, through pymetis).

METIS coarsens the unit graph, partitions the coarsest graph and refines while uncoarsening: in a fraction of a second
it gives balanced plans with short borders on layers of tens of thousands of units and hundreds of territories, where
the power-diagram seeds (seed.py) leave the search too much to repair. METIS knows nothing of locked units, rep homes,
several metrics or our tolerances, so its plans are only starts: parts are matched to territories (locks and homes),
locked units are put back, detached pieces are joined to a neighbour, and the search then balances every metric and
polishes compactness as it does from any start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from territory_optimizer.model import Model
from territory_optimizer.seed import _fill_empty, _seed_score, balance_weight

if TYPE_CHECKING:
    import pymetis

# METIS takes integer weights: unit weights are scaled so that they sum to this (well inside 32-bit integers, fine
# enough that rounding is far below any tolerance), and border lengths to this many per mean border.
WEIGHT_SCALE = 1e8
LENGTH_SCALE = 100.0
# How far METIS may let a part exceed its target, as a share of the tightest tolerance: inside it, so that the
# search starts from a plan that is nearly balanced on the combined weight.
IMBALANCE_SHARE = 0.5


def metis_seed(model: Model, rng: np.random.Generator, runs: int = 4) -> list[int]:
    """The best of `runs` METIS partitions (by the power-diagram seeds' score: balance excess, then inertia), each
    matched to the territories, with locked units in place and every territory connected."""
    import pymetis  # imported here: a compiled extension that small instances never need

    w, target = balance_weight(model)
    graph, eweights = _csr(model)
    vweights = np.maximum(1, np.round(w / w.sum() * WEIGHT_SCALE)).astype(np.int64)
    tpwgts = (target / target.sum()).tolist()
    tol = float(np.min(model.tolerances[model.balanced])) if model.balanced.any() else 0.05
    best: tuple[float, list[int]] | None = None
    for _ in range(max(1, runs)):
        opts = pymetis.Options()
        opts.seed = int(rng.integers(2**31 - 1))
        opts.ufactor = max(1, int(round(tol * IMBALANCE_SHARE * 1000)))
        opts.contig = 1 if _connected(model) else 0
        _, parts = pymetis.part_graph(
            model.k, graph, vweights=vweights.tolist(), eweights=eweights, tpwgts=tpwgts, options=opts
        )
        labels = _matched(model, np.asarray(parts, dtype=np.int64), w, target)
        assign = join_detached(model, labels, w, target)
        score = _seed_score(model, np.asarray(assign), w, target)
        if best is None or score < best[0]:
            best = (score, assign)
    assert best is not None
    return best[1]


def _csr(model: Model) -> tuple[pymetis.CSRAdjacency, list[int]]:
    import pymetis

    n = model.n
    starts = np.zeros(n + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(nb) for nb in model.neighbors])
    adjacent = [v for nb in model.neighbors for v in nb]
    lengths = np.asarray([x for nl in model.neighbor_lengths for x in nl], dtype=float)
    mean = lengths.mean() if len(lengths) and lengths.mean() > 0 else 1.0
    eweights = np.maximum(1, np.round(lengths / mean * LENGTH_SCALE)).astype(np.int64).tolist()
    return pymetis.CSRAdjacency(starts.tolist(), adjacent), eweights


def _connected(model: Model) -> bool:
    return connected_components(_adjacency(model, np.ones(len(model.edges), dtype=bool)), directed=False)[0] == 1


def _adjacency(model: Model, edge_kept: np.ndarray) -> coo_matrix:
    a, b = model.edges[:, 0][edge_kept], model.edges[:, 1][edge_kept]
    return coo_matrix((np.ones(len(a)), (a, b)), shape=(model.n, model.n))


def _matched(model: Model, parts: np.ndarray, w: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Territory labels for METIS's parts: the matching of parts to territories that keeps the most locked units and
    homes in their territory, then puts each part's load nearest its territory's target; locked units put back."""
    k = model.k
    cost = np.zeros((k, k))  # part x territory
    load = np.bincount(parts, weights=w, minlength=k)
    cost += np.abs(load[:, None] - target[None, :]) / target[None, :]
    locked = np.flatnonzero(model.locked >= 0)
    if len(locked):
        np.add.at(cost, (parts[locked], model.locked[locked]), -float(len(locked) + k))
    homes = np.flatnonzero(model.homes >= 0)
    if len(homes):
        np.add.at(cost, (parts[model.homes[homes]], homes), -float(len(locked) + k))
    rows, cols = linear_sum_assignment(cost)
    label_of = np.empty(k, dtype=np.int64)
    label_of[rows] = cols
    labels: np.ndarray = label_of[parts]
    labels[locked] = model.locked[locked]
    return labels


def join_detached(model: Model, labels: np.ndarray, w: np.ndarray, target: np.ndarray) -> list[int]:
    """Every territory in one piece: the piece holding its locked units (else its heaviest) stays, each other piece
    joins the neighbouring territory that is least loaded for its target. Vectorised over the whole graph (the
    unit-by-unit repair in seed.py is too slow for tens of thousands of units); pieces holding locked units of their
    territory are left to the search, which never breaks a territory further."""
    labels = labels.copy()
    a, b = model.edges[:, 0], model.edges[:, 1]
    for _ in range(50):
        inside = labels[a] == labels[b]
        _, comp = connected_components(_adjacency(model, inside), directed=False)
        ncomp = int(comp.max()) + 1
        comp_label = np.zeros(ncomp, dtype=np.int64)
        comp_label[comp] = labels
        comp_weight = np.bincount(comp, weights=w, minlength=ncomp)
        comp_locked = np.bincount(comp, weights=(model.locked >= 0).astype(float), minlength=ncomp)
        # the main piece of each territory: most locked units, then heaviest
        order = np.lexsort((-comp_weight, -comp_locked, comp_label))
        first = np.ones(ncomp, dtype=bool)
        first[1:] = comp_label[order][1:] != comp_label[order][:-1]
        main = np.zeros(ncomp, dtype=bool)
        main[order[first]] = True
        detached = ~main & (comp_locked == 0)
        if not detached.any():
            break
        load = np.bincount(labels, weights=w, minlength=model.k)
        # the territories across each detached piece's border
        cross = ~inside & detached[comp[a]]
        cross_b = ~inside & detached[comp[b]]
        pa = np.concatenate([comp[a][cross], comp[b][cross_b]])
        nb = np.concatenate([labels[b][cross], labels[a][cross_b]])
        if len(pa) == 0:
            break
        fill = load[nb] / target[nb]
        pick = np.lexsort((nb, fill, pa))
        pa, nb = pa[pick], nb[pick]
        firsts = np.ones(len(pa), dtype=bool)
        firsts[1:] = pa[1:] != pa[:-1]
        dest = np.full(ncomp, -1, dtype=np.int64)
        dest[pa[firsts]] = nb[firsts]
        move = dest[comp]
        where = move >= 0
        labels[where] = move[where]
    assign: list[int] = labels.tolist()
    _fill_empty(model, assign, w.tolist())
    return assign
