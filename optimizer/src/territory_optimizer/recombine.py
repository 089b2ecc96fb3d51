"""Pair recombination: merge two neighbouring territories and re-split them along a cut of a random spanning tree.

A cut of a spanning tree leaves two connected pieces, so every candidate is contiguous; all the pieces' figures
(metric totals, area, perimeter, moments, disruption, locked units) come from subtree sums, so one tree gives all its
n - 1 candidate splits in O(n * depth). This is what moves balance in big steps where single units are too coarse.
`PairRecombination` holds these moves as methods of the search (search.py), whose state they read and update.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from territory_optimizer.tree_cuts import split_pair

if TYPE_CHECKING:
    from territory_optimizer.search import Weights

TWO_PI = 2.0 * math.pi


def best_split(
    search: PairRecombination, ta: int, tb: int, rng: np.random.Generator, trees: int
) -> tuple[float, list[int]] | None:
    """The cheapest re-split of territories `ta` and `tb` found on `trees` random spanning trees, as (cost change,
    units that go to `ta`); None when no candidate is allowed or the best is the current split. The trees and cuts
    are scored in the compiled kernel."""
    s = search
    st = s._static
    lab = np.asarray(s.assign, dtype=np.int64)
    n_m = len(s.tracked)
    goes_to_a = np.zeros(len(lab), dtype=np.int64)
    wts = np.array([s.w.balance, s.w.quadratic, s.w.polsby_popper, s.w.inertia, s.w.disruption])
    cost = split_pair(
        lab, ta, tb, int(rng.integers(2**31 - 1)), trees, st["nb_ptr"], st["nb_idx"], st["nb_len"], st["vals"],
        st["area"], st["x"], st["y"], st["ext"], st["ltot"], st["locked"], st["initial"], st["dval"], st["tgt"],
        np.asarray(s.tol, dtype=float), st["cmin"], st["cmax"], st["cref"], wts, st["fixed"], st["hx"], st["hy"],
        float(s.moved), math.inf if s.max_moved is None else float(s.max_moved), goes_to_a,
    )  # fmt: skip
    if not math.isfinite(cost):
        return None
    if np.array_equal(goes_to_a == 1, lab == ta):
        return None  # the best split is the current one: nothing to change
    cur = s.comp[ta] + s.comp[tb] + s.w.balance * sum(s.exc[m][ta] + s.exc[m][tb] for m in range(n_m))
    cur += s.w.quadratic * sum(s.quad[m][ta] + s.quad[m][tb] for m in range(n_m))
    if s.initial is not None:
        cur += s.w.disruption * s.moved
    return cost - cur, np.flatnonzero(goes_to_a).tolist()


class PairRecombination:
    """The search's pair moves: choosing a pair of neighbouring territories, re-splitting it, and recomputing both
    territories' figures. Mixed into `Search`, whose state (assignment, per-territory figures, weights) they use."""

    # The search's state these moves read and update (set by `Search`; per territory t, per tracked metric m)
    k: int
    assign: list[int]  # territory of each unit
    w: Weights
    tracked: list[int]  # the metrics with a tolerance or a cap
    vals: list[list[float]]  # [m][unit]
    tol: list[float]  # [m], inf where not balanced
    neighbors: list[list[int]]
    nlen: list[list[float]]  # border lengths, as `neighbors`
    ext: list[float]
    area: list[float]
    x: list[float]
    y: list[float]
    initial: list[int] | None
    dval: list[float]  # disruption value of each unit
    max_moved: float | None
    src: list[int]  # the adjacency's directed edges
    dst: list[int]
    size: list[int]
    load: list[list[float]]  # [m][t]
    exc: list[list[float]]  # [m][t]
    quad: list[list[float]]  # [m][t]
    tarea: list[float]
    per: list[float]
    sx: list[float]
    sy: list[float]
    sxx: list[float]
    s2: list[float]
    comp: list[float]
    moved: float
    violation: float
    squared: float
    compactness: float
    _static: dict[str, np.ndarray]  # the compiled kernels' arrays

    if TYPE_CHECKING:

        def _excess(self, m: int, t: int, load: float) -> float: ...

        def _quad(self, m: int, t: int, load: float) -> float: ...

        def _compact(self, t: int, ar: float, per: float, sx: float, sy: float, sxx: float, s2: float) -> float: ...

    def recombine(self, rng: np.random.Generator, temp: float, trees: int, exact: bool = False) -> bool:
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
        return self.recombine_pair(ta, tb, rng, temp, trees, exact)

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

    def recombine_pair(
        self, ta: int, tb: int, rng: np.random.Generator, temp: float, trees: int, exact: bool = False
    ) -> bool:
        """Re-split territories ta and tb along the best cut of `trees` random spanning trees (more on small pairs
        unless `exact`), accepted by the Metropolis rule at `temp`."""
        pair_size = self.size[ta] + self.size[tb]
        # small pairs are cheap: more trees there find finer balance
        found = best_split(self, ta, tb, rng, trees if exact else max(trees, min(32, 400 // max(pair_size, 1))))
        if found is None:
            return False
        delta, to_a = found
        if delta > 0.0 and (temp <= 0 or rng.random() >= math.exp(-delta / temp)):
            return False
        if self.max_moved is not None and self.initial is not None:
            # the move limit holds for re-splits as for single moves: one that would take the plan past it (and
            # further than it already is) is refused
            after = self._moved_after(ta, tb, to_a)
            if after > self.max_moved + 1e-9 and after > self.moved + 1e-9:
                return False
        self.resplit(ta, tb, to_a)
        return True

    def _moved_after(self, ta: int, tb: int, to_a: list[int]) -> float:
        assert self.initial is not None
        to_a_set = set(to_a)
        moved = self.moved
        for u, t in enumerate(self.assign):
            if t != ta and t != tb:
                continue
            new = ta if u in to_a_set else tb
            if new != t:
                if self.initial[u] == t:
                    moved += self.dval[u]
                elif self.initial[u] == new:
                    moved -= self.dval[u]
        return moved

    def resplit(self, ta: int, tb: int, to_a: list[int]) -> None:
        """Give `to_a` to territory `ta` and the rest of the pair to `tb`, and recompute both territories' figures
        from their units: moving units one by one could empty a territory on the way, and the figures of an empty
        territory are float residue that would poison every later delta."""
        to_a_set = set(to_a)
        assign, initial, dval = self.assign, self.initial, self.dval
        units = [u for u, t in enumerate(assign) if t == ta or t == tb]
        for u in units:
            new = ta if u in to_a_set else tb
            if initial is not None and new != assign[u]:
                if initial[u] == assign[u]:
                    self.moved += dval[u]
                elif initial[u] == new:
                    self.moved -= dval[u]
            assign[u] = new
        for t in (ta, tb):
            members = [u for u in units if assign[u] == t]
            self.size[t] = len(members)
            ar = sx = sy = sxx = s2 = per = 0.0
            for u in members:
                a, x, y = self.area[u], self.x[u], self.y[u]
                ar += a
                sx += a * x
                sy += a * y
                sxx += a * (x * x + y * y)
                s2 += a * a / TWO_PI
                per += self.ext[u]
                for v, ln in zip(self.neighbors[u], self.nlen[u], strict=True):
                    if assign[v] != t:
                        per += ln
            self.tarea[t], self.sx[t], self.sy[t], self.sxx[t], self.s2[t], self.per[t] = ar, sx, sy, sxx, s2, per
            for m, col in enumerate(self.vals):
                load = sum(col[u] for u in members)
                self.load[m][t] = load
                e, q = self._excess(m, t, load), self._quad(m, t, load)
                self.violation += e - self.exc[m][t]
                self.squared += q - self.quad[m][t]
                self.exc[m][t], self.quad[m][t] = e, q
            c = self._compact(t, ar, per, sx, sy, sxx, s2)
            self.compactness += c - self.comp[t]
            self.comp[t] = c
