"""Pair recombination: merge two neighbouring territories and re-split them along a cut of a random spanning tree.

A cut of a spanning tree leaves two connected pieces, so every candidate is contiguous; all the pieces' figures
(metric totals, area, perimeter, moments, disruption, locked units) come from subtree sums, so one tree gives all its
n - 1 candidate splits in O(n * depth). This is what moves balance in big steps where single units are too coarse.
"""

from __future__ import annotations

import math

import numpy as np

FOUR_PI = 4.0 * math.pi
TWO_PI = 2.0 * math.pi


def best_split(search, ta: int, tb: int, rng: np.random.Generator, trees: int) -> tuple[float, list[int]] | None:
    """The cheapest re-split of territories `ta` and `tb` found on `trees` random spanning trees, as (cost change,
    units that go to `ta`); None when no candidate is allowed."""
    s = search
    assign = s.assign
    units = [u for u, t in enumerate(assign) if t == ta or t == tb]
    if len(units) < 2:
        return None
    index = {u: q for q, u in enumerate(units)}
    nu = len(units)
    nbrs, nlen = s.neighbors, s.nlen
    edges = []
    for q, u in enumerate(units):
        for v, ln in zip(nbrs[u], nlen[u], strict=True):
            r = index.get(v)
            if r is not None and q < r:
                edges.append((q, r, ln))
    if len(edges) < nu - 1:
        return None
    area, xs, ys, ext, ltot = s.area, s.x, s.y, s.ext, s.ltot
    n_m = len(s.tracked)
    vals = [[s.vals[m][u] for u in units] for m in range(n_m)]
    ar = [area[u] for u in units]
    ax = [area[u] * xs[u] for u in units]
    ay = [area[u] * ys[u] for u in units]
    arr_ = [area[u] * (xs[u] ** 2 + ys[u] ** 2) + area[u] * area[u] / TWO_PI for u in units]
    plen = [ext[u] + ltot[u] for u in units]
    len_in = [0.0] * nu
    for q, r, ln in edges:
        len_in[q] += ln
        len_in[r] += ln
    locked = s.locked
    lock_a = [1 if locked[u] == ta else 0 for u in units]
    lock_b = [1 if locked[u] == tb else 0 for u in units]
    initial = s.initial
    if initial is not None:
        dv = [s.dval[u] for u in units]
        dva = [s.dval[u] if initial[u] == ta else 0.0 for u in units]
        dvb = [s.dval[u] if initial[u] == tb else 0.0 for u in units]
        moved_now = sum(s.dval[u] for u in units if initial[u] != assign[u])
    total_lock_a, total_lock_b = sum(lock_a), sum(lock_b)
    cols = [vals[m] for m in range(n_m)] + [ar, ax, ay, arr_, plen, len_in, lock_a, lock_b]
    if initial is not None:
        cols += [dv, dva, dvb]
    totals = [sum(c) for c in cols]
    n_cols = len(cols)
    cur = s.comp[ta] + s.comp[tb] + s.w.balance * sum(s.exc[m][ta] + s.exc[m][tb] for m in range(n_m))
    cur += s.w.quadratic * sum(s.quad[m][ta] + s.quad[m][tb] for m in range(n_m))
    base_moved = s.moved - moved_now if initial is not None else 0.0
    if initial is not None:
        cur += s.w.disruption * s.moved
    best: tuple[float, int, list[int], list[bool]] | None = None
    for _ in range(trees):
        parent, order, depth = _random_tree(nu, edges, rng)
        # internal shared length of each subtree: every edge counted at the lowest common ancestor of its ends
        acc = [0.0] * nu
        for q, r, ln in edges:
            x, y = q, r
            while depth[x] > depth[y]:
                x = parent[x]
            while depth[y] > depth[x]:
                y = parent[y]
            while x != y:
                x = parent[x]
                y = parent[y]
            acc[x] += ln
        sub = [list(c) for c in cols]
        for node in reversed(order):
            p = parent[node]
            if p >= 0:
                acc[p] += acc[node]
                for c in range(n_cols):
                    sub[c][p] += sub[c][node]
        for node in order[1:]:
            part = [sub[c][node] for c in range(n_cols)]
            rest = [totals[c] - part[c] for c in range(n_cols)]
            internal = acc[node]
            for orient in (0, 1):
                side_a, side_b = (part, rest) if orient == 0 else (rest, part)
                la, lb = n_m + 6, n_m + 7
                if side_a[la] != total_lock_a or side_b[lb] != total_lock_b:
                    continue
                cost = _side_cost(s, ta, side_a, n_m) + _side_cost(s, tb, side_b, n_m)
                # perimeters: piece P = sum(plen) - 2 * internal; the rest's internal = all - piece - cut
                cut = part[n_m + 5] - 2.0 * internal
                internal_all = totals[n_m + 5] / 2.0
                per_part = part[n_m + 4] - 2.0 * internal
                per_rest = rest[n_m + 4] - 2.0 * (internal_all - internal - cut)
                per_a, per_b = (per_part, per_rest) if orient == 0 else (per_rest, per_part)
                cost += _compact(s, ta, side_a, per_a, n_m) + _compact(s, tb, side_b, per_b, n_m)
                if initial is not None:
                    moved = base_moved + (side_a[-3] - side_a[-2]) + (side_b[-3] - side_b[-1])
                    if s.max_moved is not None and moved > s.max_moved + 1e-9:
                        continue
                    cost += s.w.disruption * moved
                if best is None or cost < best[0] - 1e-12:
                    best = (cost, node, list(parent), [orient == 0])
    if best is None:
        return None
    cost, node, parent, (piece_to_a,) = best
    in_piece = _subtree_members(node, parent)
    to_a = [units[q] for q in range(nu) if (q in in_piece) == piece_to_a]
    return cost - cur, to_a


def _side_cost(s, t: int, side: list[float], n_m: int) -> float:
    c = 0.0
    for m in range(n_m):
        load = side[m]
        tg = s.tgt[m][t]
        tol = s.tol[m]
        e = 0.0
        if tol != math.inf:
            d = (load - tg) / tg
            e = abs(d) - tol
            if e < 0:
                e = 0.0
            c += s.w.quadratic * d * d
        if load > s.cmax[m]:
            e += (load - s.cmax[m]) / s.cref[m]
        elif load < s.cmin[m]:
            e += (s.cmin[m] - load) / s.cref[m]
        c += s.w.balance * e
    return c


def _compact(s, t: int, side: list[float], per: float, n_m: int) -> float:
    ar, sx, sy, sxx_s2 = side[n_m], side[n_m + 1], side[n_m + 2], side[n_m + 3]
    if ar <= 0:
        return 0.0
    c = 0.0
    if s.w.polsby_popper and per > 0:
        c += s.w.polsby_popper * (1.0 - FOUR_PI * ar / (per * per))
    if s.w.inertia:
        if s.fixed_centre[t]:
            hx, hy = s.hx[t], s.hy[t]
            inertia = sxx_s2 - 2 * (hx * sx + hy * sy) + ar * (hx * hx + hy * hy)
        else:
            inertia = sxx_s2 - (sx * sx + sy * sy) / ar
        c += s.w.inertia * (TWO_PI * inertia / (ar * ar) - 1.0)
    return c


def _random_tree(nu: int, edges: list[tuple[int, int, float]], rng: np.random.Generator):
    keys = rng.random(len(edges))
    uf = list(range(nu))

    def find(x: int) -> int:
        while uf[x] != x:
            uf[x] = uf[uf[x]]
            x = uf[x]
        return x

    adj: list[list[int]] = [[] for _ in range(nu)]
    for e in np.argsort(keys).tolist():
        q, r, _ = edges[e]
        fq, fr = find(q), find(r)
        if fq != fr:
            uf[fq] = fr
            adj[q].append(r)
            adj[r].append(q)
    root = int(rng.integers(nu))
    parent = [-1] * nu
    depth = [0] * nu
    order = [root]
    seen = [False] * nu
    seen[root] = True
    head = 0
    while head < len(order):
        u = order[head]
        head += 1
        for v in adj[u]:
            if not seen[v]:
                seen[v] = True
                parent[v] = u
                depth[v] = depth[u] + 1
                order.append(v)
    return parent, order, depth


def _subtree_members(node: int, parent: list[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for q, p in enumerate(parent):
        if p >= 0:
            children.setdefault(p, []).append(q)
    out = {node}
    stack = [node]
    while stack:
        u = stack.pop()
        for c in children.get(u, []):
            out.add(c)
            stack.append(c)
    return out
