"""Simulated annealing over single-unit boundary moves that keep every territory contiguous.

Cost = balance_weight * (excess beyond tolerance + cap violations, as fractions of the target, summed)
     + compactness (sum over territories) + disruption_weight * (units or weight away from the initial plan).
Every figure is kept incrementally, so a move is evaluated in O(metrics + degree); the articulation check (a BFS
inside the losing territory, stopping as soon as the unit's neighbours are joined) runs only for accepted moves.
The loop itself runs compiled (kernel.py); this class owns the state and the single-unit moves made outside the
loop; the pair recombinations are in recombine.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from territory_optimizer.kernel import anneal_kernel
from territory_optimizer.model import Model
from territory_optimizer.recombine import PairRecombination

FOUR_PI = 4.0 * math.pi
TWO_PI = 2.0 * math.pi
P_DOUBLE = 0.3  # share of compound (two-unit) proposals in the annealing, on coarse layers
COARSE = 10.0  # units per territory at and below which units are coarse
CHUNK = 16384  # proposals per kernel call: the time limit and cancellation are checked between calls


@dataclass
class Weights:
    balance: float
    polsby_popper: float
    quadratic: float  # weight of the squared deviation (inside tolerance too): pulls loads towards the target
    inertia: float
    disruption: float


class Stop(Exception):
    """Raised inside the loop when the time limit passes or the run is cancelled."""


class Search(PairRecombination):
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
        self.tgt: list[list[float]] = [model.targets[:, j].tolist() for j in self.tracked]
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
        # compound moves cost a connectivity check each; they pay off where single units are coarse
        self.p_double = P_DOUBLE * min(1.0, COARSE * k / n)
        self._build_static()
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

    def objective(self) -> float:
        """What a plan is judged on once its violation is known: compactness and disruption (no search penalties)."""
        return self.compactness + self.w.disruption * self.moved

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
        tick: Callable[[float, float], None],  # called every chunk with the fraction done; raises Stop to end the run
        max_moved: float | None = None,
    ) -> tuple[list[int], float, float]:
        """Anneal from the current plan; returns the best plan seen (least violation, then least objective()).

        The moves run in the compiled kernel on array copies of the state, written back when the loop ends."""
        best = list(self.assign)
        best_v, best_c = self.violation, self.objective()
        n_dir = len(self.src)
        if n_dir == 0 or iterations <= 0:
            return best, best_v, best_c
        st = self._state_arrays()
        k = self._static
        state = np.array([self.violation, self.squared, self.compactness, self.moved])
        bstate = np.array([best_v, best_c])
        best_arr = np.asarray(best, dtype=np.int64)
        wts = np.array([self.w.balance, self.w.quadratic, self.w.polsby_popper, self.w.inertia, self.w.disruption])
        tol = np.asarray(self.tol, dtype=float)
        limit = math.inf if max_moved is None else float(max_moved)
        ratio = (t_end / t_start) if t_start > 0 else 1.0
        n_m = len(self.tracked)
        new_exc_a, new_exc_b, new_q_a, new_q_b = (np.zeros(n_m) for _ in range(4))
        chunk = CHUNK
        it = 0
        try:
            while it < iterations:
                try:
                    tick(it / iterations, float(bstate[0]))
                except Stop:
                    raise Stop(best_arr.tolist(), float(bstate[0]), float(bstate[1])) from None
                if time.monotonic() > deadline:
                    raise Stop(best_arr.tolist(), float(bstate[0]), float(bstate[1]))
                m = min(chunk, iterations - it)
                edge_idx = rng.integers(0, n_dir, size=m)
                uni = rng.random((m, 4))
                anneal_kernel(
                    m,
                    it,
                    iterations,
                    t_start,
                    ratio,
                    edge_idx,
                    uni,
                    st["assign"],
                    st["size"],
                    k["locked"],
                    k["nb_ptr"],
                    k["nb_idx"],
                    k["nb_len"],
                    k["ltot"],
                    k["ext"],
                    k["area"],
                    k["x"],
                    k["y"],
                    st["tarea"],
                    st["per"],
                    st["sx"],
                    st["sy"],
                    st["sxx"],
                    st["s2"],
                    st["comp"],
                    st["load"],
                    st["exc"],
                    st["quad"],
                    k["vals"],
                    k["tgt"],
                    tol,
                    k["cmin"],
                    k["cmax"],
                    k["cref"],
                    wts,
                    k["fixed"],
                    k["hx"],
                    k["hy"],
                    k["initial"],
                    k["dval"],
                    limit,
                    k["src"],
                    k["dst"],
                    state,
                    best_arr,
                    bstate,
                    k["want"],
                    k["seen"],
                    k["queue"],
                    k["stamp"],
                    new_exc_a,
                    new_exc_b,
                    new_q_a,
                    new_q_b,
                    self.p_double,
                )
                it += m
        finally:
            self._write_back(st, state)
        return best_arr.tolist(), float(bstate[0]), float(bstate[1])

    def _build_static(self) -> None:
        """Arrays the kernel reads but never changes: the graph in CSR form, unit figures, targets."""
        n = len(self.neighbors)
        ptr, idx, lens = self.model.adjacency_csr()
        n_m = len(self.tracked)
        self._static = {
            "locked": np.asarray(self.locked, dtype=np.int64),
            "nb_ptr": ptr,
            "nb_idx": idx,
            "nb_len": lens,
            "ltot": np.asarray(self.ltot, dtype=float),
            "ext": np.asarray(self.ext, dtype=float),
            "area": np.asarray(self.area, dtype=float),
            "x": np.asarray(self.x, dtype=float),
            "y": np.asarray(self.y, dtype=float),
            "vals": np.asarray(self.vals, dtype=float).reshape(n_m, n),
            "tgt": np.asarray(self.tgt, dtype=float).reshape(n_m, self.k),
            "cmin": np.asarray(self.cmin, dtype=float),
            "cmax": np.asarray(self.cmax, dtype=float),
            "cref": np.asarray(self.cref, dtype=float),
            "fixed": np.asarray(self.fixed_centre, dtype=np.bool_),
            "hx": np.asarray(self.hx, dtype=float),
            "hy": np.asarray(self.hy, dtype=float),
            "initial": np.asarray(self.initial if self.initial is not None else [], dtype=np.int64),
            "dval": np.asarray(self.dval, dtype=float),
            "src": np.asarray(self.src, dtype=np.int64),
            "dst": np.asarray(self.dst, dtype=np.int64),
            "want": np.zeros(n, dtype=np.int64),
            "seen": np.zeros(n, dtype=np.int64),
            "queue": np.zeros(n, dtype=np.int64),
            "stamp": np.zeros(1, dtype=np.int64),
        }

    def _state_arrays(self) -> dict[str, np.ndarray]:
        n_m, k = len(self.tracked), self.k
        return {
            "assign": np.asarray(self.assign, dtype=np.int64),
            "size": np.asarray(self.size, dtype=np.int64),
            "tarea": np.asarray(self.tarea, dtype=float),
            "per": np.asarray(self.per, dtype=float),
            "sx": np.asarray(self.sx, dtype=float),
            "sy": np.asarray(self.sy, dtype=float),
            "sxx": np.asarray(self.sxx, dtype=float),
            "s2": np.asarray(self.s2, dtype=float),
            "comp": np.asarray(self.comp, dtype=float),
            "load": np.asarray(self.load, dtype=float).reshape(n_m, k),
            "exc": np.asarray(self.exc, dtype=float).reshape(n_m, k),
            "quad": np.asarray(self.quad, dtype=float).reshape(n_m, k),
        }

    def _write_back(self, st: dict[str, np.ndarray], state: np.ndarray) -> None:
        self.assign[:] = st["assign"].tolist()
        for name in ("size", "tarea", "per", "sx", "sy", "sxx", "s2", "comp"):
            setattr(self, name, st[name].tolist())
        for name in ("load", "exc", "quad"):
            setattr(self, name, st[name].tolist())
        # totals from the per-territory figures, so that rounding in the running sums never accumulates
        self.violation = float(st["exc"].sum())
        self.squared = float(st["quad"].sum())
        self.compactness = float(st["comp"].sum())
        self.moved = float(state[3])

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
