"""Starting plans: capacity-constrained power diagrams on the unit points, then made contiguous."""

from __future__ import annotations

import numpy as np

from territory_optimizer.graph import territory_parts
from territory_optimizer.model import Model


def balance_weight(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """One weight per unit standing for all balanced metrics (each as a share of its total), and its per-territory
    target. Without balanced metrics, area."""
    cols = np.flatnonzero(model.balanced)
    if len(cols) == 0:
        w = model.areas / model.areas.sum()
        return w, np.full(model.k, 1.0 / model.k)
    totals = model.values[:, cols].sum(axis=0)
    w = (model.values[:, cols] / totals).mean(axis=1)
    target = (model.targets[:, cols] / totals).mean(axis=1)
    return w, target


def power_diagram_seed(model: Model, rng: np.random.Generator, restarts: int = 8) -> list[int]:
    """Best of several capacity-constrained power diagrams (k-means++ starts), repaired to be contiguous."""
    w, target = balance_weight(model)
    best: tuple[float, list[int]] | None = None
    for _ in range(max(1, restarts)):
        labels = _power_diagram(model, w, target, rng)
        assign = repair_contiguity(model, labels.tolist(), w, target)
        score = _seed_score(model, np.asarray(assign), w, target)
        if best is None or score < best[0]:
            best = (score, assign)
    assert best is not None
    return best[1]


def _kmeanspp(coords: np.ndarray, w: np.ndarray, k: int, fixed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    centres = np.zeros((k, 2))
    chosen = [int(t) for t in np.flatnonzero(fixed >= 0)]
    for t in chosen:
        centres[t] = coords[fixed[t]]
    if chosen:
        d2 = ((coords[:, None, :] - centres[None, chosen, :]) ** 2).sum(axis=2).min(axis=1)
    else:
        first = rng.choice(len(coords), p=w / w.sum())
        centres[0] = coords[first]
        chosen = [0]
        d2 = ((coords - centres[0]) ** 2).sum(axis=1)
    for t in range(k):
        if t in chosen:
            continue
        p = w * d2
        p = p / p.sum() if p.sum() > 0 else np.full(len(w), 1.0 / len(w))
        idx = rng.choice(len(coords), p=p)
        centres[t] = coords[idx]
        d2 = np.minimum(d2, ((coords - centres[t]) ** 2).sum(axis=1))
    return centres


def _power_diagram(model: Model, w: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    coords, k = model.coords, model.k
    scale = coords.std(axis=0).mean() ** 2 + 1e-12
    xy = (coords - coords.mean(axis=0)) / np.sqrt(scale)
    fixed = model.homes
    centres = _kmeanspp(xy, w, k, fixed, rng)
    movable = fixed < 0
    locked = model.locked
    has_locked = bool((locked >= 0).any())
    offsets = np.zeros(k)
    cell = 1.0 / k  # squared radius of a cell, in scaled units, roughly
    labels = np.zeros(model.n, dtype=np.int64)
    outer_rounds = 10
    for outer in range(outer_rounds):
        d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        labels = _balance_offsets(d2, offsets, w, target, locked if has_locked else None, cell, 60 if outer else 150)
        if outer == outer_rounds - 1:
            break
        area = np.bincount(labels, weights=model.areas, minlength=k)
        for axis in range(2):
            mean = np.bincount(labels, weights=model.areas * xy[:, axis], minlength=k) / np.maximum(area, 1e-300)
            centres[:, axis] = np.where(movable & (area > 0), mean, centres[:, axis])
    return labels


def _balance_offsets(
    d2: np.ndarray,
    offsets: np.ndarray,
    w: np.ndarray,
    target: np.ndarray,
    locked: np.ndarray | None,
    cell: float,
    rounds: int,
) -> np.ndarray:
    """Adjust the power-diagram offsets (in place) until each cell's weight is near its target; sign-adaptive steps."""
    k = len(target)
    step = np.full(k, 0.5 * cell)
    prev = np.zeros(k)
    best_labels: np.ndarray | None = None
    best_err = np.inf
    for _ in range(rounds):
        labels = np.argmin(d2 - offsets, axis=1)
        if locked is not None:
            labels = np.where(locked >= 0, locked, labels)
        load = np.bincount(labels, weights=w, minlength=k)
        err = (target - load) / target
        worst = float(np.abs(err).max())
        if worst < best_err:
            best_err, best_labels = worst, labels
        flipped = np.sign(err) != np.sign(prev)
        step = np.where(flipped, step * 0.5, step * 1.2)
        offsets += step * np.sign(err) * np.minimum(1.0, np.abs(err) * 10)
        prev = err
    assert best_labels is not None
    return best_labels


def repair_contiguity(model: Model, assign: list[int], w: np.ndarray, target: np.ndarray) -> list[int]:
    """Give each territory's detached parts to a neighbouring territory (the least loaded), keep the main part.

    The main part is the one holding the territory's locked units, else the heaviest. Detached parts that hold locked
    units are joined to the main part along a shortest path instead. Territories left empty get one unit.
    """
    k, neighbors, locked = model.k, model.neighbors, model.locked
    wl = w.tolist()
    for _ in range(4 * k + 10):
        changed = False
        members: list[list[int]] = [[] for _ in range(k)]
        for u, t in enumerate(assign):
            members[t].append(u)
        load = [sum(wl[u] for u in m) for m in members]
        for t in range(k):
            parts = territory_parts(members[t], assign, neighbors)
            if len(parts) <= 1:
                continue
            parts.sort(key=lambda p: (-sum(1 for u in p if locked[u] == t), -sum(wl[u] for u in p), min(p)))
            main = set(parts[0])
            for part in parts[1:]:
                if any(locked[u] == t for u in part):
                    for u in _path_to(part, main, t, assign, neighbors, locked):
                        if assign[u] != t:
                            assign[u] = t
                            changed = True
                    continue
                options = sorted({assign[v] for u in part for v in neighbors[u] if assign[v] != t})
                if not options:
                    continue
                dest = min(options, key=lambda s: (load[s] / target[s], s))
                for u in part:
                    assign[u] = dest
                moved = sum(wl[u] for u in part)
                load[dest] += moved
                load[t] -= moved
                changed = True
            if changed:
                break
        if not changed:
            break
    _fill_empty(model, assign, wl)
    return assign


def _path_to(
    part: list[int], main: set[int], t: int, assign: list[int], neighbors: list[list[int]], locked: np.ndarray
) -> list[int]:
    from collections import deque

    start = set(part)
    prev: dict[int, int] = {u: -1 for u in part}
    queue = deque(part)
    while queue:
        u = queue.popleft()
        for v in neighbors[u]:
            if v in prev or (locked[v] >= 0 and locked[v] != t):
                continue
            prev[v] = u
            if v in main:
                path = []
                x = prev[v]
                while x != -1 and x not in start:
                    path.append(x)
                    x = prev[x]
                return path
            queue.append(v)
    return []


def _fill_empty(model: Model, assign: list[int], wl: list[float]) -> None:
    from territory_optimizer.graph import stays_connected

    k = model.k
    for t in range(k):
        sizes = np.bincount(np.asarray(assign), minlength=k)
        if sizes[t] > 0:
            continue
        donors = sorted(range(k), key=lambda s: (-sizes[s], s))
        for s in donors:
            if sizes[s] < 2:
                break
            candidates = [u for u, a in enumerate(assign) if a == s and model.locked[u] < 0]
            candidates = [u for u in candidates if stays_connected(u, assign, model.neighbors)]
            if candidates:
                u = max(candidates, key=lambda x: (len([v for v in model.neighbors[x] if assign[v] != s]), -x))
                assign[u] = t
                break


def _seed_score(model: Model, assign: np.ndarray, w: np.ndarray, target: np.ndarray) -> float:
    k = model.k
    load = np.bincount(assign, weights=w, minlength=k)
    dev = np.abs(load - target) / target
    tol = float(np.min(model.tolerances[model.balanced])) if model.balanced.any() else 1.0
    excess: float = np.maximum(dev - tol, 0).sum()
    area = np.bincount(assign, weights=model.areas, minlength=k)
    inertia = 0.0
    for axis in range(2):
        x = model.coords[:, axis]
        sx = np.bincount(assign, weights=model.areas * x, minlength=k)
        sxx = np.bincount(assign, weights=model.areas * x * x, minlength=k)
        inertia_t = sxx - sx**2 / np.maximum(area, 1e-300)
        inertia += float((2 * np.pi * inertia_t / np.maximum(area, 1e-300) ** 2).sum()) / k
    return 10.0 * excess + inertia
