"""The compiled inner loop of the local search: single-unit boundary moves with their balance, compactness and
disruption deltas, in one numba kernel. The contiguity check and the applied move it uses are in kernel_moves.py.

The kernel mirrors `Search.anneal` figure for figure (the Python side owns the state; the kernel works on array
copies of it and hands them back). Random numbers come from the caller's numpy generator in chunks, so a seed still
gives one plan. `cache=True` keeps the compiled code on disk: only the first run on a machine pays the compile.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from territory_optimizer.kernel_moves import apply_move, stays_connected

FOUR_PI = 4.0 * math.pi
TWO_PI = 2.0 * math.pi


@njit(cache=True, nogil=True)
def anneal_kernel(
    n_iter: int,
    it0: int,
    total: int,
    t_start: float,
    ratio: float,
    edge_idx: np.ndarray,
    uni: np.ndarray,
    assign: np.ndarray,
    size: np.ndarray,
    locked: np.ndarray,
    nb_ptr: np.ndarray,
    nb_idx: np.ndarray,
    nb_len: np.ndarray,
    ltot: np.ndarray,
    ext: np.ndarray,
    area: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    tarea: np.ndarray,
    per: np.ndarray,
    sx_: np.ndarray,
    sy_: np.ndarray,
    sxx_: np.ndarray,
    s2_: np.ndarray,
    comp: np.ndarray,
    load: np.ndarray,
    exc: np.ndarray,
    quad: np.ndarray,
    vals: np.ndarray,
    tgt: np.ndarray,
    tol: np.ndarray,
    cmin: np.ndarray,
    cmax: np.ndarray,
    cref: np.ndarray,
    wts: np.ndarray,
    fixed: np.ndarray,
    hxs: np.ndarray,
    hys: np.ndarray,
    initial: np.ndarray,
    dval: np.ndarray,
    limit: float,
    src: np.ndarray,
    dst: np.ndarray,
    state: np.ndarray,
    best: np.ndarray,
    bstate: np.ndarray,
    want: np.ndarray,
    seen: np.ndarray,
    queue: np.ndarray,
    stamp: np.ndarray,
    new_exc_a: np.ndarray,
    new_exc_b: np.ndarray,
    new_q_a: np.ndarray,
    new_q_b: np.ndarray,
    p_double: float,
) -> None:
    """Run `n_iter` proposals (iterations it0.. of `total`, temperature t_start * ratio**(it / total)).

    state = [violation, squared, compactness, moved]; bstate = [best violation, best objective]; `best` gets the
    best plan seen (least violation, then least compactness + disruption cost)."""
    wb = wts[0]
    wq = wts[1]
    wpp = wts[2]
    win = wts[3]
    wd = wts[4]
    n_m = load.shape[0]
    has_initial = initial.shape[0] > 0
    best_v = bstate[0]
    best_c = bstate[1]
    for p in range(n_iter):
        e = edge_idx[p]
        i = src[e]
        a = assign[i]
        b = assign[dst[e]]
        if a == b or locked[i] >= 0 or size[a] == 1:
            continue
        if uni[p, 1] < p_double:
            # compound move: i goes from a to b and a unit of b next to i goes on to a third territory or back to a
            # (a swap). Balance moves by the difference of two units, which single moves of coarse units cannot do.
            if not stays_connected(i, a, assign, nb_ptr, nb_idx, want, seen, queue, stamp):
                continue
            n_c = 0
            for q in range(nb_ptr[i], nb_ptr[i + 1]):
                v = nb_idx[q]
                if assign[v] == b and locked[v] < 0:
                    n_c += 1
            if n_c == 0 or size[b] == 1:
                continue
            pick = int(uni[p, 2] * n_c)
            j = -1
            for q in range(nb_ptr[i], nb_ptr[i + 1]):
                v = nb_idx[q]
                if assign[v] == b and locked[v] < 0:
                    if pick == 0:
                        j = v
                        break
                    pick -= 1
            d1 = apply_move(
                i, b, assign, size, nb_ptr, nb_idx, nb_len, ltot, ext, area, xs, ys, tarea, per, sx_, sy_, sxx_, s2_,
                comp, load, exc, quad, vals, tgt, tol, cmin, cmax, cref, wts, fixed, hxs, hys, initial, dval, state,
            )  # fmt: skip
            n_c = 0
            for q in range(nb_ptr[j], nb_ptr[j + 1]):
                if assign[nb_idx[q]] != b:
                    n_c += 1
            c = -1
            if n_c > 0:
                pick = int(uni[p, 3] * n_c)
                for q in range(nb_ptr[j], nb_ptr[j + 1]):
                    tv = assign[nb_idx[q]]
                    if tv != b:
                        if pick == 0:
                            c = tv
                            break
                        pick -= 1
            ok = c >= 0 and stays_connected(j, b, assign, nb_ptr, nb_idx, want, seen, queue, stamp)
            d2 = 0.0
            if ok:
                d2 = apply_move(
                    j, c, assign, size, nb_ptr, nb_idx, nb_len, ltot, ext, area, xs, ys, tarea, per, sx_, sy_, sxx_,
                    s2_, comp, load, exc, quad, vals, tgt, tol, cmin, cmax, cref, wts, fixed, hxs, hys, initial, dval,
                    state,
                )  # fmt: skip
                delta = d1 + d2
                if state[3] > limit + 1e-9:
                    ok = False
                elif delta > 0.0:
                    temp = t_start * ratio ** ((it0 + p) / total)
                    ok = temp > 0.0 and uni[p, 0] < math.exp(-delta / temp)
                if not ok:
                    apply_move(
                        j, b, assign, size, nb_ptr, nb_idx, nb_len, ltot, ext, area, xs, ys, tarea, per, sx_, sy_,
                        sxx_, s2_, comp, load, exc, quad, vals, tgt, tol, cmin, cmax, cref, wts, fixed, hxs, hys,
                        initial, dval, state,
                    )  # fmt: skip
            if not ok:
                apply_move(
                    i, a, assign, size, nb_ptr, nb_idx, nb_len, ltot, ext, area, xs, ys, tarea, per, sx_, sy_, sxx_,
                    s2_, comp, load, exc, quad, vals, tgt, tol, cmin, cmax, cref, wts, fixed, hxs, hys, initial, dval,
                    state,
                )  # fmt: skip
                continue
            v_now = state[0] if state[0] > 1e-12 else 0.0
            if v_now < best_v - 1e-12 or (v_now <= best_v + 1e-12 and delta < 0.0):
                c_now = state[2] + wd * state[3]
                if v_now < best_v - 1e-12 or c_now < best_c - 1e-12:
                    best_v = v_now
                    best_c = c_now
                    best[:] = assign
            continue
        dv = 0.0
        dq = 0.0
        for m in range(n_m):
            x = vals[m, i]
            if x == 0.0:
                new_exc_a[m] = exc[m, a]
                new_exc_b[m] = exc[m, b]
                new_q_a[m] = quad[m, a]
                new_q_b[m] = quad[m, b]
                continue
            la = load[m, a] - x
            lb = load[m, b] + x
            tm = tol[m]
            if tm != np.inf:
                ta = tgt[m, a]
                qa = (la - ta) / ta
                ea = abs(qa) - tm
                if ea < 0.0:
                    ea = 0.0
                tb = tgt[m, b]
                qb = (lb - tb) / tb
                eb = abs(qb) - tm
                if eb < 0.0:
                    eb = 0.0
                qa *= qa
                qb *= qb
                new_q_a[m] = qa
                new_q_b[m] = qb
                dq += qa + qb - quad[m, a] - quad[m, b]
            else:
                ea = 0.0
                eb = 0.0
                new_q_a[m] = 0.0
                new_q_b[m] = 0.0
            if la < cmin[m]:
                ea += (cmin[m] - la) / cref[m]
            if lb > cmax[m]:
                eb += (lb - cmax[m]) / cref[m]
            new_exc_a[m] = ea
            new_exc_b[m] = eb
            dv += ea + eb - exc[m, a] - exc[m, b]
        dd = 0.0
        if has_initial:
            home = initial[i]
            if home == a:
                dd = dval[i]
            elif home == b:
                dd = -dval[i]
            if dd > 0.0 and state[3] + dd > limit:
                continue
        sa = 0.0
        sb = 0.0
        n_in_a = 0
        for q in range(nb_ptr[i], nb_ptr[i + 1]):
            tv = assign[nb_idx[q]]
            if tv == a:
                sa += nb_len[q]
                n_in_a += 1
            elif tv == b:
                sb += nb_len[q]
        ar = area[i]
        xi = xs[i]
        yi = ys[i]
        pa = per[a] + 2.0 * sa - ltot[i] - ext[i]
        pb = per[b] + ltot[i] + ext[i] - 2.0 * sb
        aa = tarea[a] - ar
        ab = tarea[b] + ar
        sxa = sx_[a] - ar * xi
        sya = sy_[a] - ar * yi
        sxb = sx_[b] + ar * xi
        syb = sy_[b] + ar * yi
        rr = ar * (xi * xi + yi * yi)
        sxxa = sxx_[a] - rr
        sxxb = sxx_[b] + rr
        q2 = ar * ar / TWO_PI
        s2a = s2_[a] - q2
        s2b = s2_[b] + q2
        ca = 0.0
        cb = 0.0
        if wpp != 0.0:
            if pa > 0:
                ca = wpp * (1.0 - FOUR_PI * aa / (pa * pa))
            if pb > 0:
                cb = wpp * (1.0 - FOUR_PI * ab / (pb * pb))
        if win != 0.0:
            if fixed[a]:
                hx = hxs[a]
                hy = hys[a]
                ia = sxxa - 2 * (hx * sxa + hy * sya) + aa * (hx * hx + hy * hy) + s2a
            else:
                ia = sxxa - (sxa * sxa + sya * sya) / aa + s2a
            if fixed[b]:
                hx = hxs[b]
                hy = hys[b]
                ib = sxxb - 2 * (hx * sxb + hy * syb) + ab * (hx * hx + hy * hy) + s2b
            else:
                ib = sxxb - (sxb * sxb + syb * syb) / ab + s2b
            ca += win * (TWO_PI * ia / (aa * aa) - 1.0)
            cb += win * (TWO_PI * ib / (ab * ab) - 1.0)
        dc = ca + cb - comp[a] - comp[b]
        delta = wb * dv + wq * dq + dc + wd * dd
        if delta > 0.0:
            temp = t_start * ratio ** ((it0 + p) / total)
            if temp <= 0.0 or uni[p, 0] >= math.exp(-delta / temp):
                continue
        if n_in_a > 1 and not stays_connected(i, a, assign, nb_ptr, nb_idx, want, seen, queue, stamp):
            continue
        assign[i] = b
        size[a] -= 1
        size[b] += 1
        for m in range(n_m):
            x = vals[m, i]
            load[m, a] -= x
            load[m, b] += x
            exc[m, a] = new_exc_a[m]
            exc[m, b] = new_exc_b[m]
            quad[m, a] = new_q_a[m]
            quad[m, b] = new_q_b[m]
        tarea[a] = aa
        tarea[b] = ab
        per[a] = pa
        per[b] = pb
        sx_[a] = sxa
        sy_[a] = sya
        sx_[b] = sxb
        sy_[b] = syb
        sxx_[a] = sxxa
        sxx_[b] = sxxb
        s2_[a] = s2a
        s2_[b] = s2b
        comp[a] = ca
        comp[b] = cb
        state[0] += dv
        state[1] += dq
        state[2] += dc
        state[3] += dd
        v_now = state[0] if state[0] > 1e-12 else 0.0
        if v_now < best_v - 1e-12 or (v_now <= best_v + 1e-12 and delta < 0.0):
            # the best plan is judged on what is asked (violation, then compactness and disruption), not on the
            # search's own penalty weights, so that plans stay comparable when the weights change
            c_now = state[2] + wd * state[3]
            if v_now < best_v - 1e-12 or c_now < best_c - 1e-12:
                best_v = v_now
                best_c = c_now
                best[:] = assign
    bstate[0] = best_v
    bstate[1] = best_c
