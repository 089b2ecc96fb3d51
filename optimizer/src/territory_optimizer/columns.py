"""Compact balanced territories grown from every unit: columns for the set-partitioning recombination.

The territories the searches pass through come from a few basins of the plan landscape, and a run whose fresh
starts all fall in poor basins keeps to them (on North Carolina K=10 such runs end at a mean Polsby-Popper of 0.34
to 0.36 where others reach 0.40). Territories grown directly, independent of any plan, give the set-partitioning
problem pieces of the other basins: from each unit, add the neighbouring unit that keeps the grown set roundest
(least perimeter squared over area), drawn at random among the few roundest so that repeats differ, and keep every
set along the way that meets the per-territory bounds of every constrained metric. Grown sets are connected by
construction.

Thousands of such sets make a set-partitioning problem too big to solve whole in the time, so its linear relaxation
prices them (reduced cost against the unit duals) and the integer program takes only the best-priced ones.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.typed import List

from territory_optimizer.model import Model

FOUR_PI = 4.0 * math.pi
GROWTHS = 30  # growths from each unit
ROUNDEST = 6  # the next unit is drawn among this many roundest candidates


@njit(cache=True, nogil=True)
def _keep(
    flat: np.ndarray, offsets: List[int], costs: List[float], members: np.ndarray, size: int, last: int, cost: float
) -> np.ndarray:
    """Append members[:size], and `last` unless it is -1, as one territory; returns the buffer, grown if full."""
    start = offsets[-1]
    end = start + size + (1 if last >= 0 else 0)
    if end > flat.shape[0]:
        bigger = np.empty(2 * end, dtype=np.int64)
        bigger[:start] = flat[:start]
        flat = bigger
    flat[start : start + size] = members[:size]
    if last >= 0:
        flat[end - 1] = last
    offsets.append(end)
    costs.append(cost)
    return flat


@njit(cache=True, nogil=True)
def _grow(
    seed: int, growths: int, roundest: int, nb_ptr: np.ndarray, nb_idx: np.ndarray, nb_len: np.ndarray,
    ext: np.ndarray, area: np.ndarray, vals: np.ndarray, low: np.ndarray, high: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Every in-bounds set met while growing `growths` times from each unit: (units flat, offsets, costs)."""
    np.random.seed(seed)
    n = area.shape[0]
    n_m = vals.shape[0]
    inside = np.zeros(n, dtype=np.bool_)
    members = np.empty(n, dtype=np.int64)
    load = np.empty(n_m)
    cand = np.empty(n, dtype=np.int64)
    cand_score = np.empty(n)
    cand_per = np.empty(n)
    mark = np.zeros(n, dtype=np.int64)
    cap = 1 << 16
    flat = np.empty(cap, dtype=np.int64)
    offsets = List.empty_list(types.int64)
    offsets.append(0)
    costs = List.empty_list(types.float64)
    stamp = 0
    for root in range(n):
        for _ in range(growths):
            size = 1
            members[0] = root
            inside[root] = True
            ar = area[root]
            per = ext[root]
            for z in range(nb_ptr[root], nb_ptr[root + 1]):
                per += nb_len[z]
            alone = True
            for m in range(n_m):
                load[m] = vals[m, root]
                if load[m] < low[m] or load[m] > high[m]:
                    alone = False
            if alone and per > 0.0:  # a unit that makes a territory on its own
                flat = _keep(flat, offsets, costs, members, 1, -1, 1.0 - FOUR_PI * ar / (per * per))
            while True:
                # below the lower bound of the first metric the set keeps growing
                if load[0] >= low[0]:
                    break
                stamp += 1
                n_c = 0
                for q in range(size):
                    u = members[q]
                    for z in range(nb_ptr[u], nb_ptr[u + 1]):
                        v = nb_idx[z]
                        if inside[v] or mark[v] == stamp:
                            continue
                        mark[v] = stamp
                        ok = True
                        fits = True
                        for m in range(n_m):
                            x = load[m] + vals[m, v]
                            if x > high[m]:
                                ok = False
                            if x < low[m]:
                                fits = False
                        if not ok:
                            continue
                        p2 = per + ext[v]
                        for y in range(nb_ptr[v], nb_ptr[v + 1]):
                            p2 += -nb_len[y] if inside[nb_idx[y]] else nb_len[y]
                        a2 = ar + area[v]
                        if fits and p2 > 0.0:  # a finished territory: the members and v
                            flat = _keep(flat, offsets, costs, members, size, v, 1.0 - FOUR_PI * a2 / (p2 * p2))
                        cand[n_c] = v
                        cand_score[n_c] = p2 * p2 / a2 if a2 > 0.0 else np.inf
                        cand_per[n_c] = p2
                        n_c += 1
                if n_c == 0:
                    break
                order = np.argsort(cand_score[:n_c])
                pick = order[np.random.randint(0, min(roundest, n_c))]
                v = cand[pick]
                inside[v] = True
                members[size] = v
                size += 1
                ar += area[v]
                per = cand_per[pick]
                for m in range(n_m):
                    load[m] += vals[m, v]
            for q in range(size):
                inside[members[q]] = False
    out_offsets = np.empty(len(offsets), dtype=np.int64)
    for q in range(len(offsets)):
        out_offsets[q] = offsets[q]
    out_costs = np.empty(len(costs))
    for q in range(len(costs)):
        out_costs[q] = costs[q]
    return flat[: offsets[-1]].copy(), out_offsets, out_costs


def grown_territories(
    model: Model, low: np.ndarray, high: np.ndarray, metrics: list[int], seed: int
) -> dict[bytes, float]:
    """Connected sets of units within [low, high] on every metric in `metrics`, each with its cost 1 - Polsby-Popper,
    keyed by its sorted units' bytes (the pool's key)."""
    n = model.n
    ptr, idx, lens = model.adjacency_csr()
    vals = np.ascontiguousarray(model.values[:, metrics].T, dtype=float).reshape(len(metrics), n)
    flat, offsets, costs = _grow(
        seed, GROWTHS, ROUNDEST, ptr, idx, lens, model.external.astype(float), model.areas.astype(float), vals,
        np.asarray(low, dtype=float), np.asarray(high, dtype=float),
    )  # fmt: skip
    found: dict[bytes, float] = {}
    for c in range(len(costs)):
        units = np.sort(flat[offsets[c] : offsets[c + 1]])
        found.setdefault(units.tobytes(), float(costs[c]))
    return found
