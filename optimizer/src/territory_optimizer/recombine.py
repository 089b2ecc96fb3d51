"""Pair recombination: merge two neighbouring territories and re-split them along a cut of a random spanning tree.

A cut of a spanning tree leaves two connected pieces, so every candidate is contiguous; all the pieces' figures
(metric totals, area, perimeter, moments, disruption, locked units) come from subtree sums, so one tree gives all its
n - 1 candidate splits in O(n * depth). This is what moves balance in big steps where single units are too coarse.
"""

from __future__ import annotations

import math

import numpy as np

from territory_optimizer.tree_cuts import split_pair


def best_split(search, ta: int, tb: int, rng: np.random.Generator, trees: int) -> tuple[float, list[int]] | None:
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
