"""The compiled moves the annealing kernel (kernel.py) is built from: whether a territory stays connected without
a unit, and a single-unit move applied with every figure it changes.

Both work on the kernel's arrays (the graph in CSR form, per-territory figures) and compile with it (numba, cached
on disk).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

FOUR_PI = 4.0 * math.pi
TWO_PI = 2.0 * math.pi


@njit(cache=True, nogil=True)
def stays_connected(
    i: int, a: int, assign: np.ndarray, nb_ptr: np.ndarray, nb_idx: np.ndarray, want: np.ndarray, seen: np.ndarray,
    queue: np.ndarray, stamp: np.ndarray,
) -> bool:  # fmt: skip
    """Whether territory `a` stays connected without unit `i` (a BFS inside `a` that stops as soon as all of
    `i`'s neighbours in `a` are reached). `want` / `seen` are stamp arrays, so nothing is cleared between calls."""
    stamp[0] += 1
    s = stamp[0]
    first = -1
    need = 0
    for q in range(nb_ptr[i], nb_ptr[i + 1]):
        v = nb_idx[q]
        if assign[v] == a and want[v] != s:
            want[v] = s
            need += 1
            if first < 0:
                first = v
    if need <= 1:
        return True
    seen[i] = s
    seen[first] = s
    found = 1
    head = 0
    tail = 0
    queue[tail] = first
    tail += 1
    while head < tail:
        u = queue[head]
        head += 1
        for q in range(nb_ptr[u], nb_ptr[u + 1]):
            v = nb_idx[q]
            if seen[v] != s and assign[v] == a:
                seen[v] = s
                if want[v] == s:
                    found += 1
                    if found == need:
                        return True
                queue[tail] = v
                tail += 1
    return False


@njit(cache=True, nogil=True)
def apply_move(
    i: int, b: int, assign: np.ndarray, size: np.ndarray, nb_ptr: np.ndarray, nb_idx: np.ndarray, nb_len: np.ndarray,
    ltot: np.ndarray, ext: np.ndarray, area: np.ndarray, xs: np.ndarray, ys: np.ndarray, tarea: np.ndarray,
    per: np.ndarray, sx_: np.ndarray, sy_: np.ndarray, sxx_: np.ndarray, s2_: np.ndarray, comp: np.ndarray,
    load: np.ndarray, exc: np.ndarray, quad: np.ndarray, vals: np.ndarray, tgt: np.ndarray, tol: np.ndarray,
    cmin: np.ndarray, cmax: np.ndarray, cref: np.ndarray, wts: np.ndarray, fixed: np.ndarray, hxs: np.ndarray,
    hys: np.ndarray, initial: np.ndarray, dval: np.ndarray, state: np.ndarray,
) -> float:  # fmt: skip
    """Move unit i to territory b, updating every figure; returns the change of the search's cost. Used for the
    compound moves, which are applied, scored, and undone by the reverse move when refused."""
    wb: float = wts[0]
    wq: float = wts[1]
    wpp: float = wts[2]
    win: float = wts[3]
    wd: float = wts[4]
    a = assign[i]
    dv = 0.0
    dq = 0.0
    for m in range(load.shape[0]):
        x = vals[m, i]
        if x == 0.0:
            continue
        for t, sign in ((a, -1.0), (b, 1.0)):
            ld = load[m, t] + sign * x
            load[m, t] = ld
            e = 0.0
            q = 0.0
            if tol[m] != np.inf:
                tg = tgt[m, t]
                d = (ld - tg) / tg
                e = abs(d) - tol[m]
                if e < 0.0:
                    e = 0.0
                q = d * d
            if ld > cmax[m]:
                e += (ld - cmax[m]) / cref[m]
            elif ld < cmin[m]:
                e += (cmin[m] - ld) / cref[m]
            dv += e - exc[m, t]
            dq += q - quad[m, t]
            exc[m, t] = e
            quad[m, t] = q
    dd = 0.0
    if initial.shape[0] > 0:
        if initial[i] == a:
            dd = dval[i]
        elif initial[i] == b:
            dd = -dval[i]
    sa = 0.0
    sb = 0.0
    for q in range(nb_ptr[i], nb_ptr[i + 1]):
        tv = assign[nb_idx[q]]
        if tv == a:
            sa += nb_len[q]
        elif tv == b:
            sb += nb_len[q]
    per[a] += 2.0 * sa - ltot[i] - ext[i]
    per[b] += ltot[i] + ext[i] - 2.0 * sb
    ar = area[i]
    xi = xs[i]
    yi = ys[i]
    dc = 0.0
    for t, sign in ((a, -1.0), (b, 1.0)):
        tarea[t] += sign * ar
        sx_[t] += sign * ar * xi
        sy_[t] += sign * ar * yi
        sxx_[t] += sign * ar * (xi * xi + yi * yi)
        s2_[t] += sign * ar * ar / TWO_PI
        at = tarea[t]
        c = 0.0
        if wpp != 0.0 and per[t] > 0:
            c = wpp * (1.0 - FOUR_PI * at / (per[t] * per[t]))
        if win != 0.0:
            if fixed[t]:
                hx = hxs[t]
                hy = hys[t]
                it = sxx_[t] - 2 * (hx * sx_[t] + hy * sy_[t]) + at * (hx * hx + hy * hy) + s2_[t]
            else:
                it = sxx_[t] - (sx_[t] * sx_[t] + sy_[t] * sy_[t]) / at + s2_[t]
            c += win * (TWO_PI * it / (at * at) - 1.0)
        dc += c - comp[t]
        comp[t] = c
    assign[i] = b
    size[a] -= 1
    size[b] += 1
    state[0] += dv
    state[1] += dq
    state[2] += dc
    state[3] += dd
    return wb * dv + wq * dq + dc + wd * dd
