"""The request compiled to arrays, validated once: what the seed, the search and the figures work on."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from territory_optimizer.problem import Problem, ProblemError


@dataclass
class Model:
    n: int
    k: int
    metric_names: list[str]
    values: np.ndarray  # (n, m)
    targets: np.ndarray  # (k, m) per-territory target of each metric
    tolerances: np.ndarray  # (m,) inf where not balanced
    cap_min: np.ndarray  # (m,) -inf where none
    cap_max: np.ndarray  # (m,) inf where none
    edges: np.ndarray  # (E, 2)
    neighbors: list[list[int]]
    neighbor_lengths: list[list[float]]
    coords: np.ndarray  # (n, 2)
    areas: np.ndarray  # (n,)
    external: np.ndarray  # (n,) part of each unit's perimeter on no shared border
    has_shapes: bool  # border lengths and perimeters were given
    locked: np.ndarray  # (n,) territory index or -1
    homes: np.ndarray  # (k,) unit index or -1
    initial: np.ndarray | None  # (n,)

    @property
    def balanced(self) -> np.ndarray:
        finite: np.ndarray = np.isfinite(self.tolerances)
        return finite

    def bounds(self) -> tuple[list[int], np.ndarray, np.ndarray]:
        """The real bounds of each constrained metric per territory (tolerance and caps), with a hair of rounding
        room: (the constrained metrics, low and high of shape (metrics, k))."""
        tol = self.tolerances
        metrics = [
            j
            for j in range(len(self.metric_names))
            if np.isfinite(tol[j]) or np.isfinite(self.cap_min[j]) or np.isfinite(self.cap_max[j])
        ]
        low, high = [], []
        for j in metrics:
            tg = self.targets[:, j]
            band = tg * tol[j] if np.isfinite(tol[j]) else np.full(self.k, np.inf)
            low.append(np.maximum(tg - band, self.cap_min[j]) - 1e-9 * np.abs(tg))
            high.append(np.minimum(tg + band, self.cap_max[j]) + 1e-9 * np.abs(tg))
        return metrics, np.array(low).reshape(len(metrics), self.k), np.array(high).reshape(len(metrics), self.k)

    def adjacency_csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The adjacency in CSR form, as the compiled kernels read it: (row pointers, neighbours, border lengths)."""
        ptr = np.zeros(self.n + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(nb) for nb in self.neighbors])
        idx = np.fromiter((v for nb in self.neighbors for v in nb), dtype=np.int64, count=int(ptr[-1]))
        lens = np.fromiter((ln for nl in self.neighbor_lengths for ln in nl), dtype=float, count=int(ptr[-1]))
        return ptr, idx, lens


def compile_problem(problem: Problem) -> Model:
    n = problem.n_units
    k = problem.n_territories
    if n == 0:
        raise ProblemError("no units")
    if len(set(problem.unit_ids)) != n:
        raise ProblemError("unit ids are not unique")
    if problem.reps is None and problem.k is None:
        raise ProblemError("give either k or reps")
    if problem.reps is not None and problem.k is not None and problem.k != len(problem.reps):
        raise ProblemError(f"k={problem.k} but {len(problem.reps)} reps were given")
    if k < 1:
        raise ProblemError(f"the number of territories must be at least 1, got {k}")
    if k > n:
        raise ProblemError(f"{k} territories requested but there are only {n} units")
    if not problem.metrics:
        raise ProblemError("at least one metric is needed")

    names = [m.name for m in problem.metrics]
    if len(set(names)) != len(names):
        raise ProblemError("metric names are not unique")
    values = np.zeros((n, len(names)))
    tolerances = np.full(len(names), np.inf)
    cap_min = np.full(len(names), -np.inf)
    cap_max = np.full(len(names), np.inf)
    for j, metric in enumerate(problem.metrics):
        col = np.asarray(metric.values, dtype=float)
        if col.shape != (n,):
            raise ProblemError(f"metric {metric.name!r} has {col.size} values for {n} units")
        if not np.all(np.isfinite(col)):
            raise ProblemError(f"metric {metric.name!r} has missing or non-finite values")
        if np.any(col < 0):
            raise ProblemError(f"metric {metric.name!r} has negative values")
        values[:, j] = col
        if metric.tolerance is not None:
            if not (0 <= metric.tolerance < 1) or math.isnan(metric.tolerance):
                raise ProblemError(f"tolerance of {metric.name!r} must be a fraction in [0, 1), got {metric.tolerance}")
            if col.sum() <= 0:
                raise ProblemError(f"metric {metric.name!r} sums to zero: nothing to balance")
            tolerances[j] = metric.tolerance
        if metric.min_total is not None:
            cap_min[j] = metric.min_total
        if metric.max_total is not None:
            cap_max[j] = metric.max_total
        if cap_min[j] > cap_max[j]:
            raise ProblemError(f"metric {metric.name!r}: min_total {cap_min[j]} is above max_total {cap_max[j]}")

    targets = np.tile(values.sum(axis=0) / k, (k, 1))
    homes = np.full(k, -1, dtype=np.int64)
    if problem.reps is not None:
        rep_ids = [r.id for r in problem.reps]
        if len(set(rep_ids)) != len(rep_ids):
            raise ProblemError("rep ids are not unique")
        for t, rep in enumerate(problem.reps):
            if rep.home is not None:
                if not 0 <= rep.home < n:
                    raise ProblemError(f"rep {rep.id!r}: home unit index {rep.home} is out of range")
                homes[t] = rep.home
        used = homes[homes >= 0]
        if len(set(used.tolist())) != len(used):
            raise ProblemError("two reps have the same home unit")
        caps = [r.capacity for r in problem.reps]
        if any(c is not None for c in caps):
            if problem.capacity_metric is None:
                raise ProblemError("rep capacities were given: name the capacity_metric they apply to")
            if any(c is None or c <= 0 for c in caps):
                raise ProblemError("every rep needs a positive capacity when capacities are used")
            if problem.capacity_metric not in names:
                raise ProblemError(f"capacity_metric {problem.capacity_metric!r} is not one of the metrics {names}")
            j = names.index(problem.capacity_metric)
            if not np.isfinite(tolerances[j]):
                raise ProblemError(f"capacity metric {problem.capacity_metric!r} needs a tolerance")
            targets[:, j] = np.asarray(caps, dtype=float)
    elif problem.capacity_metric is not None:
        raise ProblemError("capacity_metric needs reps with capacities")

    edges = _edges(problem, n)
    lengths = None
    geometry = problem.geometry
    if geometry is not None and geometry.border_lengths is not None:
        lengths = np.asarray(geometry.border_lengths, dtype=float)
        if lengths.shape != (len(edges),):
            raise ProblemError(f"{lengths.size} border lengths for {len(edges)} edges")
    neighbors: list[list[int]] = [[] for _ in range(n)]
    neighbor_lengths: list[list[float]] = [[] for _ in range(n)]
    seen: set[tuple[int, int]] = set()
    for e, (a, b) in enumerate(edges.tolist()):
        key = (min(a, b), max(a, b))
        if a == b or key in seen:
            continue
        seen.add(key)
        length = float(lengths[e]) if lengths is not None else 1.0
        neighbors[a].append(b)
        neighbors[b].append(a)
        neighbor_lengths[a].append(length)
        neighbor_lengths[b].append(length)

    if geometry is not None:
        coords = np.asarray(geometry.coords, dtype=float)
        if coords.shape != (n, 2):
            raise ProblemError(f"coords must be (n, 2) = ({n}, 2), got {coords.shape}")
        areas = np.ones(n) if geometry.areas is None else np.asarray(geometry.areas, dtype=float)
        if areas.shape != (n,):
            raise ProblemError("areas must have one value per unit")
        has_shapes = geometry.border_lengths is not None
        if geometry.perimeters is not None and has_shapes:
            shared = np.array([sum(ls) for ls in neighbor_lengths])
            external = np.maximum(np.asarray(geometry.perimeters, dtype=float) - shared, 0.0)
        else:
            external = np.zeros(n)
    else:
        coords = _spectral_coords(n, neighbors)
        areas = np.ones(n)
        external = np.zeros(n)
        has_shapes = False
    if not has_shapes:
        # Without shapes, a unit is a square of its area: borders of sqrt(area) and the outer edge for the rest.
        side = np.sqrt(np.maximum(areas, 1e-12))
        neighbor_lengths = [[float(min(side[a], side[b])) for b in nb] for a, nb in enumerate(neighbors)]
        external = np.maximum(4 * side - np.array([sum(ls) for ls in neighbor_lengths]), 0.0)

    locked = np.full(n, -1, dtype=np.int64)
    for unit, terr in problem.locked.items():
        if not 0 <= unit < n:
            raise ProblemError(f"locked unit index {unit} is out of range")
        if not 0 <= terr < k:
            raise ProblemError(f"unit {problem.unit_ids[unit]!r} is locked to territory {terr}, not in 0..{k - 1}")
        locked[unit] = terr
    for t, h in enumerate(homes.tolist()):
        if h >= 0:
            if locked[h] not in (-1, t):
                raise ProblemError(f"home unit {problem.unit_ids[h]!r} of territory {t} is locked to {locked[h]}")
            locked[h] = t

    initial = None
    if problem.initial is not None:
        initial = np.asarray(problem.initial, dtype=np.int64)
        if initial.shape != (n,):
            raise ProblemError("initial alignment must give one territory per unit")
        if initial.min() < 0 or initial.max() >= k:
            raise ProblemError(f"initial alignment uses territories outside 0..{k - 1}")

    return Model(
        n=n,
        k=k,
        metric_names=names,
        values=values,
        targets=targets,
        tolerances=tolerances,
        cap_min=cap_min,
        cap_max=cap_max,
        edges=edges,
        neighbors=neighbors,
        neighbor_lengths=neighbor_lengths,
        coords=coords,
        areas=areas,
        external=external,
        has_shapes=has_shapes,
        locked=locked,
        homes=homes,
        initial=initial,
    )


def _edges(problem: Problem, n: int) -> np.ndarray:
    edges = np.asarray(problem.edges, dtype=np.int64)
    if edges.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ProblemError("edges must be pairs of unit indices")
    if edges.min() < 0 or edges.max() >= n:
        raise ProblemError("an edge refers to a unit index out of range")
    return edges


def _spectral_coords(n: int, neighbors: list[list[int]]) -> np.ndarray:
    """Coordinates for a graph given without geometry: a 2-D spectral embedding (Laplacian eigenvectors)."""
    if n <= 2:
        return np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    from scipy.sparse import coo_matrix, diags
    from scipy.sparse.linalg import eigsh

    rows = [a for a, nb in enumerate(neighbors) for _ in nb]
    cols = [b for nb in neighbors for b in nb]
    adj = coo_matrix((np.ones(len(rows)), (np.asarray(rows), np.asarray(cols))), shape=(n, n)).tocsr()
    lap = diags(np.asarray(adj.sum(axis=1)).ravel()) - adj
    try:
        # scipy-stubs type a difference of sparse matrices as their base class, which eigsh's overloads leave out
        _, vecs = eigsh(lap.astype(float), k=3, sigma=-1e-3, which="LM", v0=np.ones(n) / math.sqrt(n))  # type: ignore[call-overload]
        coords: np.ndarray = vecs[:, 1:3] * math.sqrt(n)
        return coords
    except Exception:  # eigsh may not converge on odd graphs: any layout is better than none
        return np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
