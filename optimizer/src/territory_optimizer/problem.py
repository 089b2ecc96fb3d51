"""What the optimizer is asked: units, their metrics, the adjacency graph, territories (K or reps) and constraints."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np


class ProblemError(ValueError):
    """The request itself is malformed (wrong sizes, unknown unit, K larger than the number of units...)."""


@dataclass(frozen=True)
class Metric:
    """A per-unit quantity summed over each territory.

    `tolerance` (fraction, 0.03 = +-3%) balances the metric around its per-territory target (total / K, or the rep's
    capacity for the capacity metric); None means not balanced. `min_total` / `max_total` are hard caps on each
    territory's total.
    """

    name: str
    values: Sequence[float] | np.ndarray
    tolerance: float | None = None
    min_total: float | None = None
    max_total: float | None = None


@dataclass(frozen=True)
class Rep:
    """A rep owning one territory: optional home unit (kept in, and centre of, their territory) and capacity."""

    id: str
    home: int | None = None
    capacity: float | None = None


@dataclass(frozen=True)
class Geometry:
    """Projected (metres) facts about the units that compactness needs; all optional but `coords`.

    `border_lengths[e]` is the length of the border shared by `Problem.edges[e]` (0 for added links);
    `perimeters` the unit's own perimeter (its part on the outer boundary counts towards territory perimeters).
    """

    coords: np.ndarray  # (n, 2) representative points, metres
    areas: np.ndarray | None = None  # (n,)
    border_lengths: np.ndarray | None = None  # (E,)
    perimeters: np.ndarray | None = None  # (n,)


@dataclass(frozen=True)
class Problem:
    """A territory design request. Units are indexed 0..n-1 in every array.

    Give either `k` or `reps` (one territory per rep, territory index = position in `reps`).
    `locked` maps unit index -> territory index that must keep it. `initial` is an existing alignment (territory index
    per unit) for minimal-disruption runs.
    """

    unit_ids: Sequence[str]
    metrics: Sequence[Metric]
    edges: np.ndarray | Sequence[tuple[int, int]]
    k: int | None = None
    reps: Sequence[Rep] | None = None
    capacity_metric: str | None = None
    geometry: Geometry | None = None
    locked: Mapping[int, int] = field(default_factory=dict)
    initial: Sequence[int] | np.ndarray | None = None

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_territories(self) -> int:
        if self.reps is not None:
            return len(self.reps)
        return int(self.k or 0)


@dataclass(frozen=True)
class Progress:
    """Reported to the progress callback: stage ('precheck', 'seed', 'search', 'repair', 'polish', 'done'), percent
    of the run (never lower than the last report's), and the real largest balance deviation (fraction, over the
    balanced metrics; None before the first plan) of the plan the run would return if it stopped now. From an
    existing alignment with territories set aside (set_aside.py), it is measured over the balanceable territories.
    """

    stage: str
    percent: float
    best_max_deviation: float | None
    best_violation: float | None
    elapsed_s: float


ProgressCallback = Callable[[Progress], None]


class CancelSignal(Protocol):
    def is_set(self) -> bool: ...


class CancelToken:
    """Cancels a running optimization from another thread; `threading.Event` works the same way."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


Compactness = Literal["polsby_popper", "inertia", "none"]
Disruption = Literal["none", "units", "weight"]
Moves = Literal["proportionate", "free"]


@dataclass(frozen=True)
class Options:
    """How to search. The run is deterministic for a given `seed` unless the time limit or a cancel cuts it short.

    compactness: 'polsby_popper' maximises the mean isoperimetric quotient 4*pi*A/P**2 of the territories from unit
    areas and shared-border lengths (with a moment-of-inertia term to keep shapes round), 'inertia' minimises the
    area-weighted moment of inertia about each territory's centre (the rep's home when homes are given) relative to
    a disc of the same area.
    disruption: with `Problem.initial`, minimise the units ('units') or the weight of the first balanced metric
    ('weight') that change territory; `max_moved_units` / `max_moved_weight` are hard limits.
    moves: with `Problem.initial`, 'proportionate' (the default) searches from the initial alignment and, unless
    `max_moved_units` / `max_moved_weight` is given, keeps the weight moved (of the first balanced metric) within a
    budget proportionate to how far its territories are from the tolerances (from_alignment.MOVE_FACTOR times the weight
    that must change territory at least, plus a couple of units); 'free' redesigns from scratch. Either way the
    plan is never worse than the initial alignment on any balanced metric's max deviation over the territories
    that can be balanced (see set_aside.py); when the search finds nothing better, the initial alignment is kept.
    effort: scales the number of search iterations (1.0 is the default budget).
    seed_restarts: power diagrams drawn for each fresh start; the best (balance first, then compactness) starts it.
    """

    seed: int = 0
    time_limit_s: float = 60.0
    compactness: Compactness = "polsby_popper"
    disruption: Disruption = "none"
    max_moved_units: int | None = None
    max_moved_weight: float | None = None
    moves: Moves = "proportionate"
    effort: float = 1.0
    seed_restarts: int = 3
    progress: ProgressCallback | None = None
    cancel: CancelSignal | None = None
