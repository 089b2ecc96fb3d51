"""One scoring module for every plan, ours and peers': balance, contiguity, compactness, runtime."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from territory_shared.geometry.compactness import mean_polsby_popper


@dataclass(frozen=True)
class Score:
    method: str
    max_dev_pct: float  # max |total - mean| / mean over territories, in %
    cv: float  # coefficient of variation of territory totals
    non_contiguous: int  # territories in more than one piece (on the adjacency graph, islands linked)
    mean_pp: float  # mean Polsby-Popper of the dissolved territories, in an equal-area projection
    seconds: float
    territories: int
    note: str = ""


def score(
    method: str, labels, weight: np.ndarray, edges: np.ndarray, projected: np.ndarray, seconds: float, note: str = ""
) -> Score:
    lab = np.unique(np.asarray(labels), return_inverse=True)[1]
    k = int(lab.max()) + 1
    totals = np.bincount(lab, weights=weight, minlength=k)
    mean = totals.mean()
    # territories in more than one piece: components of the graph of the edges inside territories, per territory
    a, b = edges[:, 0], edges[:, 1]
    inside = lab[a] == lab[b]
    n = len(lab)
    g = coo_matrix((np.ones(int(inside.sum())), (a[inside], b[inside])), shape=(n, n))
    comp = connected_components(g, directed=False)[1]
    pieces = np.bincount(np.unique(np.column_stack([lab, comp]), axis=0)[:, 0], minlength=k)
    broken = int((pieces > 1).sum())
    return Score(
        method=method,
        max_dev_pct=float(np.abs(totals - mean).max() / mean * 100),
        cv=float(totals.std() / mean),
        non_contiguous=broken,
        mean_pp=mean_polsby_popper(projected, lab),
        seconds=seconds,
        territories=k,
        note=note,
    )


def table(scores: list[Score]) -> str:
    lines = [
        "| method | K | max dev % | CV | non-contiguous | mean PP | seconds | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(
            f"| {s.method} | {s.territories} | {s.max_dev_pct:.2f} | {s.cv:.4f} | {s.non_contiguous} | {s.mean_pp:.3f} "
            f"| {s.seconds:.1f} | {s.note} |"
        )
    return "\n".join(lines)
