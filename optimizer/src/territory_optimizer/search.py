"""Simulated annealing over single-unit boundary moves that keep every territory contiguous.

Cost = balance_weight * (excess beyond tolerance + cap violations, as fractions of the target, summed)
     + compactness (sum over territories) + disruption_weight * (units or weight away from the initial plan).
Every figure is kept incrementally, so a move is evaluated in O(metrics + degree); the articulation check (a BFS
inside the losing territory, stopping as soon as the unit's neighbours are joined) runs only for accepted moves.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from territory_optimizer.graph import stays_connected
from territory_optimizer.model import Model

FOUR_PI = 4.0 * math.pi
TWO_PI = 2.0 * math.pi


@dataclass
class Weights:
    balance: float
    polsby_popper: float
    quadratic: float  # weight of the squared deviation (inside tolerance too): pulls loads towards the target
    inertia: float
    disruption: float


class Stop(Exception):
    """Raised inside the loop when the time limit passes or the run is cancelled."""


class Search:
    def __init__(self, model: Model, assign: list[int], weights: Weights, disruption_values: np.ndarray | None):
        self.model = model
        self.k = k = model.k
        self.assign = list(assign)
        self.w = weights
        n = model.n
        bal = [j for j in range(len(model.metric_names)) if np.isfinite(model.tolerances[j])]
        capped = [
            j for j in range(len(model.metric_names)) if np.isfinite(model.cap_min[j]) or np.isfinite(model.cap_max[j])
        ]
        self.tracked = sorted(set(bal) | set(capped))
        self.vals = [model.values[:, j].tolist() for j in self.tracked]
        ref = model.values.sum(axis=0) / k
        self.tgt = [model.targets[:, j].tolist() for j in self.tracked]
        self.tol = [float(model.tolerances[j]) if np.isfinite(model.tolerances[j]) else math.inf for j in self.tracked]
        self.cmin = [float(model.cap_min[j]) for j in self.tracked]
        self.cmax = [float(model.cap_max[j]) for j in self.tracked]
        self.cref = [float(ref[j]) if ref[j] > 0 else 1.0 for j in self.tracked]
        self.neighbors = model.neighbors
        self.nlen = model.neighbor_lengths
        self.ltot = [sum(x) for x in model.neighbor_lengths]
        self.ext = model.external.tolist()
        self.area = model.areas.tolist()
        self.x = model.coords[:, 0].tolist()
        self.y = model.coords[:, 1].tolist()
        self.locked = model.locked.tolist()
        self.hx = [float(model.coords[h, 0]) if h >= 0 else math.nan for h in model.homes.tolist()]
        self.hy = [float(model.coords[h, 1]) if h >= 0 else math.nan for h in model.homes.tolist()]
        self.fixed_centre = [h >= 0 for h in model.homes.tolist()]
        self.initial = model.initial.tolist() if model.initial is not None else None
        self.dval = disruption_values.tolist() if disruption_values is not None else [1.0] * n
        self.max_moved: float | None = None
        src = model.edges  # directed both ways for sampling
        pairs = [(a, b) for a, nb in enumerate(model.neighbors) for b in nb]
        self.src = [p[0] for p in pairs]
        self.dst = [p[1] for p in pairs]
        del src
        self._rebuild()

    # -- figures -------------------------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        k, a = self.k, self.assign
        self.size = [0] * k
        self.load = [[0.0] * k for _ in self.tracked]
        self.tarea = [0.0] * k
        self.per = [0.0] * k
        self.sx = [0.0] * k
        self.sy = [0.0] * k
        self.sxx = [0.0] * k
        self.s2 = [0.0] * k
        for u, t in enumerate(a):
            self.size[t] += 1
            for m, col in enumerate(self.vals):
                self.load[m][t] += col[u]
            ar = self.area[u]
            self.tarea[t] += ar
            self.sx[t] += ar * self.x[u]
            self.sy[t] += ar * self.y[u]
            self.sxx[t] += ar * (self.x[u] ** 2 + self.y[u] ** 2)
            self.s2[t] += ar * ar / TWO_PI
            self.per[t] += self.ext[u]
            for v, ln in zip(self.neighbors[u], self.nlen[u], strict=True):
                if a[v] != t:
                    self.per[t] += ln
        self.exc = [[self._excess(m, t, self.load[m][t]) for t in range(k)] for m in range(len(self.tracked))]
        self.quad = [[self._quad(m, t, self.load[m][t]) for t in range(k)] for m in range(len(self.tracked))]
        self.comp = [
            self._compact(t, self.tarea[t], self.per[t], self.sx[t], self.sy[t], self.sxx[t], self.s2[t])
            for t in range(k)
        ]
        self.moved = 0.0
        if self.initial is not None:
            self.moved = sum(self.dval[u] for u in range(len(a)) if a[u] != self.initial[u])
        self.violation = sum(sum(row) for row in self.exc)
        self.squared = sum(sum(row) for row in self.quad)
        self.compactness = sum(self.comp)

    def _excess(self, m: int, t: int, load: float) -> float:
        tg = self.tgt[m][t]
        e = 0.0
        if self.tol[m] != math.inf:
            e = abs(load - tg) / tg - self.tol[m]
            if e < 0:
                e = 0.0
        if load > self.cmax[m]:
            e += (load - self.cmax[m]) / self.cref[m]
        elif load < self.cmin[m]:
            e += (self.cmin[m] - load) / self.cref[m]
        return e

    def _quad(self, m: int, t: int, load: float) -> float:
        if self.tol[m] == math.inf:
            return 0.0
        d = (load - self.tgt[m][t]) / self.tgt[m][t]
        return d * d

    def _compact(self, t: int, ar: float, per: float, sx: float, sy: float, sxx: float, s2: float) -> float:
        if ar <= 0:
            return 0.0
        c = 0.0
        if self.w.polsby_popper:
            c += self.w.polsby_popper * (1.0 - FOUR_PI * ar / (per * per)) if per > 0 else 0.0
        if self.w.inertia:
            if self.fixed_centre[t]:
                hx, hy = self.hx[t], self.hy[t]
                inertia = sxx - 2 * (hx * sx + hy * sy) + ar * (hx * hx + hy * hy) + s2
            else:
                inertia = sxx - (sx * sx + sy * sy) / ar + s2
            c += self.w.inertia * (TWO_PI * inertia / (ar * ar) - 1.0)
        return c

    def cost(self) -> float:
        return (
            self.w.balance * self.violation
            + self.w.quadratic * self.squared
            + self.compactness
            + self.w.disruption * self.moved
        )

    # -- the loop ------------------------------------------------------------------------------------------------
    def anneal(
        self,
        iterations: int,
        t_start: float,
        t_end: float,
        rng: np.random.Generator,
        deadline: float,
        tick,  # called every 4096 iterations with the fraction done; raises Stop to end the run
        max_moved: float | None = None,
    ) -> tuple[list[int], float, float]:
        """Anneal from the current plan; returns the best plan seen (least violation, then least cost)."""
        assign, size, locked = self.assign, self.size, self.locked
        neighbors, nlen, ltot, ext = self.neighbors, self.nlen, self.ltot, self.ext
        area, xs, ys = self.area, self.x, self.y
        tarea, per, sxx_, sx_, sy_, s2_ = self.tarea, self.per, self.sxx, self.sx, self.sy, self.s2
        comp, exc, quad, load, vals = self.comp, self.exc, self.quad, self.load, self.vals
        tgt, tol, cmin, cmax, cref = self.tgt, self.tol, self.cmin, self.cmax, self.cref
        n_m = len(self.tracked)
        mrange = range(n_m)
        wb, wd, wq = self.w.balance, self.w.disruption, self.w.quadratic
        wpp, win = self.w.polsby_popper, self.w.inertia
        fixed, hxs, hys = self.fixed_centre, self.hx, self.hy
        initial, dval = self.initial, self.dval
        limit = math.inf if max_moved is None else max_moved
        src, dst = self.src, self.dst
        n_dir = len(src)
        exp = math.exp
        best = list(assign)
        best_v, best_c = self.violation, self.cost()
        if n_dir == 0 or iterations <= 0:
            return best, best_v, best_c
        chunk = 4096
        ratio = (t_end / t_start) if t_start > 0 else 1.0
        it = 0
        new_exc_a = [0.0] * n_m
        new_exc_b = [0.0] * n_m
        new_q_a = [0.0] * n_m
        new_q_b = [0.0] * n_m
        while it < iterations:
            frac = it / iterations
            temp = t_start * ratio**frac
            inv_t = 1.0 / temp if temp > 0 else math.inf
            try:
                tick(frac, best_v)
            except Stop:
                raise Stop(best, best_v, best_c) from None
            if time.monotonic() > deadline:
                raise Stop(best, best_v, best_c)
            edge_idx = rng.integers(0, n_dir, size=chunk).tolist()
            uni = rng.random(chunk).tolist()
            for p in range(min(chunk, iterations - it)):
                e = edge_idx[p]
                i = src[e]
                a = assign[i]
                b = assign[dst[e]]
                if a == b or locked[i] >= 0 or size[a] == 1:
                    continue
                # balance and caps
                dv = 0.0
                dq = 0.0
                for m in mrange:
                    x = vals[m][i]
                    if x == 0.0:
                        new_exc_a[m] = exc[m][a]
                        new_exc_b[m] = exc[m][b]
                        new_q_a[m] = quad[m][a]
                        new_q_b[m] = quad[m][b]
                        continue
                    la = load[m][a] - x
                    lb = load[m][b] + x
                    tm = tol[m]
                    if tm != math.inf:
                        ta = tgt[m][a]
                        qa = (la - ta) / ta
                        ea = (qa if qa > 0.0 else -qa) - tm
                        if ea < 0.0:
                            ea = 0.0
                        tb = tgt[m][b]
                        qb = (lb - tb) / tb
                        eb = (qb if qb > 0.0 else -qb) - tm
                        if eb < 0.0:
                            eb = 0.0
                        qa *= qa
                        qb *= qb
                        new_q_a[m] = qa
                        new_q_b[m] = qb
                        dq += qa + qb - quad[m][a] - quad[m][b]
                    else:
                        ea = eb = 0.0
                        new_q_a[m] = new_q_b[m] = 0.0
                    if la < cmin[m]:
                        ea += (cmin[m] - la) / cref[m]
                    if lb > cmax[m]:
                        eb += (lb - cmax[m]) / cref[m]
                    new_exc_a[m] = ea
                    new_exc_b[m] = eb
                    dv += ea + eb - exc[m][a] - exc[m][b]
                # disruption
                dd = 0.0
                if initial is not None:
                    home = initial[i]
                    if home == a:
                        dd = dval[i]
                    elif home == b:
                        dd = -dval[i]
                    if dd > 0.0 and self.moved + dd > limit:
                        continue
                # compactness
                sa = sb = 0.0
                n_in_a = 0
                nl = nlen[i]
                for q, v in enumerate(neighbors[i]):
                    tv = assign[v]
                    if tv == a:
                        sa += nl[q]
                        n_in_a += 1
                    elif tv == b:
                        sb += nl[q]
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
                ca = cb = 0.0
                if wpp:
                    ca = wpp * (1.0 - FOUR_PI * aa / (pa * pa)) if pa > 0 else 0.0
                    cb = wpp * (1.0 - FOUR_PI * ab / (pb * pb)) if pb > 0 else 0.0
                if win:
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
                if delta > 0.0 and uni[p] >= exp(-delta * inv_t):
                    continue
                if n_in_a > 1 and not stays_connected(i, assign, neighbors):
                    continue
                # apply
                assign[i] = b
                size[a] -= 1
                size[b] += 1
                for m in mrange:
                    x = vals[m][i]
                    load[m][a] -= x
                    load[m][b] += x
                    exc[m][a] = new_exc_a[m]
                    exc[m][b] = new_exc_b[m]
                    quad[m][a] = new_q_a[m]
                    quad[m][b] = new_q_b[m]
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
                self.violation += dv
                self.squared += dq
                self.compactness += dc
                self.moved += dd
                v_now = self.violation if self.violation > 1e-12 else 0.0
                if v_now < best_v - 1e-12 or (v_now <= best_v + 1e-12 and delta < 0.0):
                    c_now = self.cost()
                    if v_now < best_v - 1e-12 or c_now < best_c - 1e-12:
                        best_v, best_c = v_now, c_now
                        best[:] = assign
            it += chunk
        return best, best_v, best_c

    def reset(self, assign: list[int]) -> None:
        self.assign[:] = assign
        self._rebuild()

    def typical_delta(self, rng: np.random.Generator, samples: int = 400) -> float:
        """Median absolute compactness change of random boundary moves: sets the temperature scale."""
        if not self.src:
            return 1e-3
        members: list[list[int]] = [[] for _ in range(self.k)]
        for u, t in enumerate(self.assign):
            members[t].append(u)
        deltas = []
        a = self.assign
        for e in rng.integers(0, len(self.src), size=samples).tolist():
            i, j = self.src[e], self.dst[e]
            ta, tb = a[i], a[j]
            if ta == tb or self.size[ta] == 1:
                continue
            before = self.comp[ta] + self.comp[tb]
            a[i] = tb
            after = self._territory_compact(ta, [u for u in members[ta] if u != i])
            after += self._territory_compact(tb, members[tb] + [i])
            a[i] = ta
            deltas.append(abs(after - before))
        return float(np.median(deltas)) if deltas else 1e-3

    def _territory_compact(self, t: int, members: list[int]) -> float:
        ar = sum(self.area[u] for u in members)
        per = 0.0
        for u in members:
            per += self.ext[u]
            for v, ln in zip(self.neighbors[u], self.nlen[u], strict=True):
                if self.assign[v] != t:
                    per += ln
        sx = sum(self.area[u] * self.x[u] for u in members)
        sy = sum(self.area[u] * self.y[u] for u in members)
        sxx = sum(self.area[u] * (self.x[u] ** 2 + self.y[u] ** 2) for u in members)
        s2 = sum(self.area[u] ** 2 / TWO_PI for u in members)
        return self._compact(t, ar, per, sx, sy, sxx, s2)

    # -- moves outside the hot loop ------------------------------------------------------------------------------
    def move(self, i: int, b: int) -> None:
        """Move unit i to territory b, updating every figure (no contiguity check)."""
        a = self.assign[i]
        if a == b:
            return
        sa = sb = 0.0
        for v, ln in zip(self.neighbors[i], self.nlen[i], strict=True):
            if self.assign[v] == a:
                sa += ln
            elif self.assign[v] == b:
                sb += ln
        ar, xi, yi = self.area[i], self.x[i], self.y[i]
        self.per[a] += 2.0 * sa - self.ltot[i] - self.ext[i]
        self.per[b] += self.ltot[i] + self.ext[i] - 2.0 * sb
        for t, sign in ((a, -1.0), (b, 1.0)):
            self.tarea[t] += sign * ar
            self.sx[t] += sign * ar * xi
            self.sy[t] += sign * ar * yi
            self.sxx[t] += sign * ar * (xi * xi + yi * yi)
            self.s2[t] += sign * ar * ar / TWO_PI
        self.assign[i] = b
        self.size[a] -= 1
        self.size[b] += 1
        if self.initial is not None:
            if self.initial[i] == a:
                self.moved += self.dval[i]
            elif self.initial[i] == b:
                self.moved -= self.dval[i]
        for m, col in enumerate(self.vals):
            self.load[m][a] -= col[i]
            self.load[m][b] += col[i]
        for t in (a, b):
            for m in range(len(self.tracked)):
                e, q = self._excess(m, t, self.load[m][t]), self._quad(m, t, self.load[m][t])
                self.violation += e - self.exc[m][t]
                self.squared += q - self.quad[m][t]
                self.exc[m][t], self.quad[m][t] = e, q
            c = self._compact(t, self.tarea[t], self.per[t], self.sx[t], self.sy[t], self.sxx[t], self.s2[t])
            self.compactness += c - self.comp[t]
            self.comp[t] = c

    def recombine(self, rng: np.random.Generator, temp: float, trees: int) -> bool:
        """Re-split a pair of neighbouring territories (a violating one first, when there is one)."""

        if not self.src:
            return False
        if self.violation > 1e-12 and rng.random() < 0.5:
            per_territory = [sum(self.exc[m][t] for m in range(len(self.tracked))) for t in range(self.k)]
            ta = int(np.argmax(per_territory))
            around = sorted(
                {
                    self.assign[v]
                    for u, t in enumerate(self.assign)
                    if t == ta
                    for v in self.neighbors[u]
                    if self.assign[v] != ta
                }
            )
            if not around:
                return False
            tb = around[int(rng.integers(len(around)))]
        else:
            for _ in range(50):
                e = int(rng.integers(len(self.src)))
                ta, tb = self.assign[self.src[e]], self.assign[self.dst[e]]
                if ta != tb:
                    break
            else:
                return False
        return self.recombine_pair(ta, tb, rng, temp, trees)

    def worst_territory(self) -> int:
        per_territory = [sum(self.exc[m][t] for m in range(len(self.tracked))) for t in range(self.k)]
        return int(np.argmax(per_territory))

    def neighbour_territories(self, ta: int) -> list[int]:
        return sorted(
            {
                self.assign[v]
                for u, t in enumerate(self.assign)
                if t == ta
                for v in self.neighbors[u]
                if self.assign[v] != ta
            }
        )

    def recombine_pair(self, ta: int, tb: int, rng: np.random.Generator, temp: float, trees: int) -> bool:
        from territory_optimizer.recombine import best_split

        pair_size = self.size[ta] + self.size[tb]
        # small pairs are cheap: more trees there find finer balance
        found = best_split(self, ta, tb, rng, max(trees, min(32, 400 // max(pair_size, 1))))
        if found is None:
            return False
        delta, to_a = found
        if delta > 0.0 and (temp <= 0 or rng.random() >= math.exp(-delta / temp)):
            return False
        to_a_set = set(to_a)
        for u in [u for u, t in enumerate(self.assign) if t == ta or t == tb]:
            self.move(u, ta if u in to_a_set else tb)
        return True
