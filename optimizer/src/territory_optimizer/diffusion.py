"""Balance by diffusion: the flows between neighbouring territories that even out their loads, carried out by moving
units across the borders they share.

With hundreds of territories, a plan that is out of balance in many places at once (a partitioner's start) needs
weight carried along chains of territories; unit moves judged one at a time (the annealing) find those chains slowly.
The classic answer in graph-partition load balancing is diffusion: the least-squares flow on the graph of
territories whose divergence is each territory's excess is the solution of a Laplacian system (Hu and Blake, 1999),
and each flow is then carried out by border units, the ones whose move keeps both shapes most compact first.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix

from territory_optimizer.graph import stays_connected
from territory_optimizer.model import Model

ROUNDS = 40  # flow computations at most; each carries out what the borders allow of the last one


def diffuse(model: Model, assign: list[int], w: np.ndarray, target: np.ndarray, aim: float) -> list[int]:
    """`assign` with units moved between neighbouring territories until every territory's load of `w` is within
    `aim` (a share) of its target, or no flow can be carried out any more. Territories stay connected; locked units
    and rep homes stay."""
    assign = list(assign)
    k = model.k
    labels = np.asarray(assign)
    load = np.bincount(labels, weights=w, minlength=k)
    pinned = model.locked >= 0
    pinned[model.homes[model.homes >= 0]] = True
    members: list[set[int]] = [set() for _ in range(k)]
    for u, t in enumerate(assign):
        members[t].add(u)
    for _ in range(ROUNDS):
        dev = (load - target) / target
        if np.abs(dev).max() <= aim:
            break
        labels = np.asarray(assign)
        flows = _flows(model, labels, load - target)
        if not flows:
            break
        moved = 0
        for src, dst, amount in flows:
            moved += _carry(model, assign, members, load, w, pinned, src, dst, amount)
        if moved == 0:
            break
    return assign


def _flows(model: Model, labels: np.ndarray, excess: np.ndarray) -> list[tuple[int, int, float]]:
    """(from, to, weight) for each pair of neighbouring territories, largest first: f = phi_i - phi_j with
    L phi = excess, L the Laplacian of the territory graph."""
    k = model.k
    a, b = labels[model.edges[:, 0]], labels[model.edges[:, 1]]
    cut = a != b
    pairs = np.unique(np.sort(np.column_stack([a[cut], b[cut]]), axis=1), axis=0)
    if len(pairs) == 0:
        return []
    adj = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(k, k)).toarray()
    adj = adj + adj.T
    lap = np.diag(adj.sum(axis=1)) - adj
    # the territory graph may be in several pieces (islands unlinked): the least-squares solution balances each
    # piece around its own mean, which is all that moving units can do
    phi = np.linalg.lstsq(lap, excess - excess.mean(), rcond=None)[0]
    flow = phi[pairs[:, 0]] - phi[pairs[:, 1]]
    out = []
    for (i, j), f in zip(pairs.tolist(), flow.tolist(), strict=True):
        if f > 0:
            out.append((i, j, f))
        elif f < 0:
            out.append((j, i, -f))
    out.sort(key=lambda x: -x[2])
    return out


def _carry(
    model: Model,
    assign: list[int],
    members: list[set[int]],
    load: np.ndarray,
    w: np.ndarray,
    pinned: np.ndarray,
    src: int,
    dst: int,
    amount: float,
) -> int:
    """Move units of `src` that border `dst` into `dst`, up to `amount` of weight; the unit sharing the most of its
    border with `dst` first. Returns the number moved."""
    neighbors, lengths = model.neighbors, model.neighbor_lengths
    moved = 0
    remaining = amount
    blocked: set[int] = set()  # articulations of src: moving one would break it
    while remaining > 0 and len(members[src]) > 1:
        best, best_key = -1, None
        for u in members[src]:
            wu = w[u]
            if pinned[u] or wu <= 0 or wu >= 2 * remaining or u in blocked:
                continue
                continue  # a unit heavier than twice what is left would leave the pair further apart than before
            if not any(assign[v] == dst for v in neighbors[u]):
                continue
            to_dst = sum(x for v, x in zip(neighbors[u], lengths[u], strict=True) if assign[v] == dst)
            to_src = sum(x for v, x in zip(neighbors[u], lengths[u], strict=True) if assign[v] == src)
            key = (to_dst - to_src) / max(to_dst + to_src, 1e-12)
            if best_key is None or key > best_key:
                best, best_key = u, key
        if best < 0:
            break
        if not stays_connected(best, assign, neighbors):
            blocked.add(best)
            continue
        assign[best] = dst
        members[src].discard(best)
        members[dst].add(best)
        load[src] -= w[best]
        load[dst] += w[best]
        remaining -= w[best]
        moved += 1
    return moved
