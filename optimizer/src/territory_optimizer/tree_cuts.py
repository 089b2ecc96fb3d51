"""Compiled spanning-tree cuts of two merged territories: the pair recombination's best re-split.

A cut of a spanning tree leaves two connected pieces, so every candidate is contiguous. All the pieces' figures
(metric totals, area, perimeter, moments, disruption, locked units) come from subtree sums, so one tree gives its
n - 1 candidate splits in O(n * depth). Random numbers come from a seed drawn from the caller's generator, so a seed
still gives one plan.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

FOUR_PI = 4.0 * math.pi
TWO_PI = 2.0 * math.pi


@njit(cache=True, nogil=True)
def _side_cost(
    side: np.ndarray, tgt_t: np.ndarray, tol: np.ndarray, cmin: np.ndarray, cmax: np.ndarray, cref: np.ndarray,
    wb: float, wq: float, n_m: int,
) -> float:  # fmt: skip
    c = 0.0
    for m in range(n_m):
        load = side[m]
        tg = tgt_t[m]
        e = 0.0
        if tol[m] != np.inf:
            d = (load - tg) / tg
            e = abs(d) - tol[m]
            if e < 0.0:
                e = 0.0
            c += wq * d * d
        if load > cmax[m]:
            e += (load - cmax[m]) / cref[m]
        elif load < cmin[m]:
            e += (cmin[m] - load) / cref[m]
        c += wb * e
    return c


@njit(cache=True, nogil=True)
def _side_compact(
    side: np.ndarray, per: float, n_m: int, wpp: float, win: float, fixed: bool, hx: float, hy: float
) -> float:
    ar = side[n_m]
    if ar <= 0.0:
        return 0.0
    sx = side[n_m + 1]
    sy = side[n_m + 2]
    sxx_s2 = side[n_m + 3]
    c = 0.0
    if wpp != 0.0 and per > 0.0:
        c += wpp * (1.0 - FOUR_PI * ar / (per * per))
    if win != 0.0:
        if fixed:
            inertia = sxx_s2 - 2 * (hx * sx + hy * sy) + ar * (hx * hx + hy * hy)
        else:
            inertia = sxx_s2 - (sx * sx + sy * sy) / ar
        c += win * (TWO_PI * inertia / (ar * ar) - 1.0)
    return c


@njit(cache=True, nogil=True)
def _gather(
    assign: np.ndarray, ta: int, tb: int, nb_ptr: np.ndarray, nb_idx: np.ndarray, nb_len: np.ndarray, vals: np.ndarray,
    area: np.ndarray, xs: np.ndarray, ys: np.ndarray, ext: np.ndarray, ltot: np.ndarray, locked: np.ndarray,
    initial: np.ndarray, dval: np.ndarray, moved: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:  # fmt: skip
    """The units of territories ta and tb (in unit order), their internal edges and their per-unit columns: metrics,
    then area, area*x, area*y, area*(x^2+y^2)+area^2/2pi, perimeter, length shared inside the pair, locked to a,
    locked to b, and with an initial plan disruption value, its part initially in a, in b. Also the disruption of the
    rest of the plan. No units (an empty array) when the pair is not connected."""
    n = assign.shape[0]
    n_m = vals.shape[0]
    index = np.full(n, -1, dtype=np.int64)
    nu = 0
    for u in range(n):
        if assign[u] == ta or assign[u] == tb:
            index[u] = nu
            nu += 1
    units = np.empty(nu, dtype=np.int64)
    for u in range(n):
        if index[u] >= 0:
            units[index[u]] = u
    n_e = 0
    for q in range(nu):
        u = units[q]
        for z in range(nb_ptr[u], nb_ptr[u + 1]):
            if index[nb_idx[z]] > q:
                n_e += 1
    has_initial = initial.shape[0] > 0
    n_cols = n_m + 8 + (3 if has_initial else 0)
    e_q = np.empty(n_e, dtype=np.int64)
    e_r = np.empty(n_e, dtype=np.int64)
    e_len = np.empty(n_e)
    cols = np.zeros((n_cols, nu))
    if nu < 2 or n_e < nu - 1:
        return units[:0], e_q, e_r, e_len, cols, moved
    n_e = 0
    base_moved = moved
    for q in range(nu):
        u = units[q]
        for z in range(nb_ptr[u], nb_ptr[u + 1]):
            r = index[nb_idx[z]]
            if r > q:
                e_q[n_e] = q
                e_r[n_e] = r
                e_len[n_e] = nb_len[z]
                cols[n_m + 5, q] += nb_len[z]
                cols[n_m + 5, r] += nb_len[z]
                n_e += 1
        for m in range(n_m):
            cols[m, q] = vals[m, u]
        a = area[u]
        cols[n_m, q] = a
        cols[n_m + 1, q] = a * xs[u]
        cols[n_m + 2, q] = a * ys[u]
        cols[n_m + 3, q] = a * (xs[u] * xs[u] + ys[u] * ys[u]) + a * a / TWO_PI
        cols[n_m + 4, q] = ext[u] + ltot[u]
        cols[n_m + 6, q] = 1.0 if locked[u] == ta else 0.0
        cols[n_m + 7, q] = 1.0 if locked[u] == tb else 0.0
        if has_initial:
            cols[n_m + 8, q] = dval[u]
            cols[n_m + 9, q] = dval[u] if initial[u] == ta else 0.0
            cols[n_m + 10, q] = dval[u] if initial[u] == tb else 0.0
            if initial[u] != assign[u]:
                base_moved -= dval[u]
    return units, e_q, e_r, e_len, cols, base_moved


@njit(cache=True, nogil=True)
def _grow_tree(
    keys_row: np.ndarray, root: int, e_q: np.ndarray, e_r: np.ndarray, e_len: np.ndarray, cols: np.ndarray,
    uf: np.ndarray, adj_ptr: np.ndarray, adj: np.ndarray, tree_e: np.ndarray, deg: np.ndarray, parent: np.ndarray,
    depth: np.ndarray, order: np.ndarray, seen: np.ndarray, acc: np.ndarray, sub: np.ndarray,
) -> bool:  # fmt: skip
    """Kruskal on random edge keys gives a random spanning tree, rooted at `root` in BFS `order` with `parent`s;
    `sub` gets each subtree's column sums and `acc` the edge length shared inside each subtree. False when the
    pair's units are not connected."""
    nu = uf.shape[0]
    n_e = e_q.shape[0]
    for q in range(nu):
        uf[q] = q
    n_tree = 0
    for e in np.argsort(keys_row):
        x = e_q[e]
        while uf[x] != x:
            uf[x] = uf[uf[x]]
            x = uf[x]
        y = e_r[e]
        while uf[y] != y:
            uf[y] = uf[uf[y]]
            y = uf[y]
        if x != y:
            uf[x] = y
            tree_e[n_tree] = e
            n_tree += 1
            if n_tree == nu - 1:
                break
    if n_tree < nu - 1:
        return False
    deg[:] = 0
    for t in range(n_tree):
        e = tree_e[t]
        deg[e_q[e]] += 1
        deg[e_r[e]] += 1
    adj_ptr[0] = 0
    for q in range(nu):
        adj_ptr[q + 1] = adj_ptr[q] + deg[q]
    deg[:] = 0
    for t in range(n_tree):
        e = tree_e[t]
        a = e_q[e]
        b = e_r[e]
        adj[adj_ptr[a] + deg[a]] = b
        deg[a] += 1
        adj[adj_ptr[b] + deg[b]] = a
        deg[b] += 1
    seen[:] = False
    seen[root] = True
    parent[root] = -1
    depth[root] = 0
    order[0] = root
    head = 0
    tail = 1
    while head < tail:
        u = order[head]
        head += 1
        for q in range(adj_ptr[u], adj_ptr[u + 1]):
            v = adj[q]
            if not seen[v]:
                seen[v] = True
                parent[v] = u
                depth[v] = depth[u] + 1
                order[tail] = v
                tail += 1
    # length shared inside each subtree: every pair edge counted at the lowest common ancestor of its ends
    acc[:] = 0.0
    for e in range(n_e):
        x = e_q[e]
        y = e_r[e]
        while depth[x] > depth[y]:
            x = parent[x]
        while depth[y] > depth[x]:
            y = parent[y]
        while x != y:
            x = parent[x]
            y = parent[y]
        acc[x] += e_len[e]
    sub[:, :] = cols
    n_cols = cols.shape[0]
    for j in range(nu - 1, 0, -1):
        node = order[j]
        p = parent[node]
        acc[p] += acc[node]
        for c in range(n_cols):
            sub[c, p] += sub[c, node]
    return True


@njit(cache=True, nogil=True)
def _cut(
    node: int, sub: np.ndarray, acc: np.ndarray, totals: np.ndarray, internal_all: float, c_in: int, c_plen: int,
    part: np.ndarray, rest: np.ndarray,
) -> tuple[float, float]:  # fmt: skip
    """The two pieces of cutting `node` off its parent: column sums in `part` (the subtree) and `rest`; returns
    their perimeters."""
    for c in range(totals.shape[0]):
        part[c] = sub[c, node]
        rest[c] = totals[c] - part[c]
    internal = acc[node]
    cut = part[c_in] - 2.0 * internal
    return part[c_plen] - 2.0 * internal, rest[c_plen] - 2.0 * (internal_all - internal - cut)


@njit(cache=True, nogil=True)
def _mark_subtree(node: int, parent: np.ndarray, order: np.ndarray, out: np.ndarray) -> None:
    """out[q] = 1 for the units of the subtree under `node`, 0 for the others (parents come first in BFS order)."""
    nu = order.shape[0]
    for j in range(nu):
        q = order[j]
        p = parent[q]
        out[q] = 1 if q == node or (p >= 0 and out[p] == 1) else 0


@njit(cache=True, nogil=True)
def _scratch(
    nu: int, n_cols: int
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
    np.ndarray, np.ndarray,
]:  # fmt: skip
    return (
        np.empty(nu, dtype=np.int64),  # uf
        np.zeros(nu + 1, dtype=np.int64),  # adj_ptr
        np.empty(2 * nu, dtype=np.int64),  # adj
        np.empty(nu, dtype=np.int64),  # tree_e
        np.zeros(nu, dtype=np.int64),  # deg
        np.empty(nu, dtype=np.int64),  # parent
        np.empty(nu, dtype=np.int64),  # depth
        np.empty(nu, dtype=np.int64),  # order
        np.zeros(nu, dtype=np.bool_),  # seen
        np.empty(nu),  # acc
        np.empty((n_cols, nu)),  # sub
    )


@njit(cache=True, nogil=True)
def _random_trees(seed: int, trees: int, nu: int, n_e: int) -> tuple[np.ndarray, np.ndarray]:
    np.random.seed(seed)
    keys = np.random.random((trees, n_e))
    roots = np.empty(trees, dtype=np.int64)
    for t in range(trees):
        roots[t] = np.random.randint(0, nu)
    return keys, roots


@njit(cache=True, nogil=True)
def split_pair(
    assign: np.ndarray, ta: int, tb: int, seed: int, trees: int, nb_ptr: np.ndarray, nb_idx: np.ndarray,
    nb_len: np.ndarray, vals: np.ndarray, area: np.ndarray, xs: np.ndarray, ys: np.ndarray, ext: np.ndarray,
    ltot: np.ndarray, locked: np.ndarray, initial: np.ndarray, dval: np.ndarray, tgt: np.ndarray, tol: np.ndarray,
    cmin: np.ndarray, cmax: np.ndarray, cref: np.ndarray, wts: np.ndarray, fixed: np.ndarray, hxs: np.ndarray,
    hys: np.ndarray, moved: float, max_moved: float, goes_to_a: np.ndarray,
) -> float:  # fmt: skip
    """The cheapest re-split of territories ta and tb over the cuts of `trees` random spanning trees of their units.
    Sets goes_to_a[u] = 1 for the units that go to ta (others of the pair 0) and returns its cost: penalised balance,
    compactness and disruption under the weights `wts` (inf when no cut is allowed)."""
    units, e_q, e_r, e_len, cols, base_moved = _gather(
        assign, ta, tb, nb_ptr, nb_idx, nb_len, vals, area, xs, ys, ext, ltot, locked, initial, dval, moved
    )
    nu = units.shape[0]
    if nu == 0:
        return np.inf
    n_m = vals.shape[0]
    has_initial = initial.shape[0] > 0
    wb, wq, wpp, win, wd = wts[0], wts[1], wts[2], wts[3], wts[4]
    n_cols = cols.shape[0]
    totals = np.zeros(n_cols)
    for c in range(n_cols):
        totals[c] = cols[c].sum()
    c_plen, c_in, c_la, c_lb = n_m + 4, n_m + 5, n_m + 6, n_m + 7
    internal_all = totals[c_in] / 2.0
    tgt_a = tgt[:, ta].copy()
    tgt_b = tgt[:, tb].copy()
    keys, roots = _random_trees(seed, trees, nu, e_q.shape[0])
    uf, adj_ptr, adj, tree_e, deg, parent, depth, order, seen, acc, sub = _scratch(nu, n_cols)
    part = np.empty(n_cols)
    rest = np.empty(n_cols)
    best_parent = np.empty(nu, dtype=np.int64)
    best_order = np.empty(nu, dtype=np.int64)
    best_cost = np.inf
    best_node = -1
    best_piece_a = True
    for tree in range(trees):
        if not _grow_tree(
            keys[tree], roots[tree], e_q, e_r, e_len, cols, uf, adj_ptr, adj, tree_e, deg, parent, depth, order,
            seen, acc, sub,
        ):  # fmt: skip
            return np.inf
        for j in range(1, nu):
            node = order[j]
            per_part, per_rest = _cut(node, sub, acc, totals, internal_all, c_in, c_plen, part, rest)
            for orient in range(2):
                side_a, side_b, per_a, per_b = part, rest, per_part, per_rest
                if orient == 1:
                    side_a, side_b, per_a, per_b = rest, part, per_rest, per_part
                if side_a[c_la] != totals[c_la] or side_b[c_lb] != totals[c_lb]:
                    continue
                cost = _side_cost(side_a, tgt_a, tol, cmin, cmax, cref, wb, wq, n_m)
                cost += _side_cost(side_b, tgt_b, tol, cmin, cmax, cref, wb, wq, n_m)
                cost += _side_compact(side_a, per_a, n_m, wpp, win, fixed[ta], hxs[ta], hys[ta])
                cost += _side_compact(side_b, per_b, n_m, wpp, win, fixed[tb], hxs[tb], hys[tb])
                if has_initial:
                    moved_now = base_moved + (side_a[n_cols - 3] - side_a[n_cols - 2])
                    moved_now += side_b[n_cols - 3] - side_b[n_cols - 1]
                    if moved_now > max_moved + 1e-9:
                        continue
                    cost += wd * moved_now
                if cost < best_cost - 1e-12:
                    best_cost = cost
                    best_node = node
                    best_piece_a = orient == 0
                    best_parent[:] = parent
                    best_order[:] = order
    if best_node < 0:
        return np.inf
    to_a = np.zeros(nu, dtype=np.int64)
    _mark_subtree(best_node, best_parent, best_order, to_a)
    for q in range(nu):
        goes_to_a[units[q]] = to_a[q] if best_piece_a else 1 - to_a[q]
    return best_cost
