"""What a run returns: the plan, its real figures, and how it compares with an initial alignment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from territory_optimizer.figures import Figures, Violation

StoppedBy = Literal["completed", "time_limit", "cancelled"]


@dataclass(frozen=True)
class MetricBalance:
    """One balanced metric's max deviation (a fraction) over the territories the request can balance, in the plan
    and in the initial alignment, against the same targets (what is left for those territories)."""

    name: str
    tolerance: float
    source: float
    plan: float


@dataclass(frozen=True)
class Plan:
    """The best plan found and its real figures.

    `feasible` is True only when every requested constraint holds (`violations` empty). `infeasible_reasons` says
    why the request cannot be met at all, when that is known before searching (e.g. a unit heavier than a territory
    may hold); the plan returned is then the best compromise, with its real figures.

    From an initial alignment: `set_aside` are the territories no plan can balance (kept as they were, see
    set_aside.py), with the units that make them so and why; `balance` compares the plan with the initial alignment
    over the other territories; `fell_back` says the search's own plan was worse there on some metric, so the best
    plan seen that is not worse was returned instead (`kept_source`: the initial alignment itself, nothing better
    was found); `move_budget` is the proportionate budget of moved weight (of the first balanced metric) when one
    applied.
    """

    assignment: np.ndarray  # territory index per unit
    unit_ids: tuple[str, ...]
    feasible: bool
    violations: tuple[Violation, ...]
    infeasible_reasons: tuple[Violation, ...]
    figures: Figures
    stopped_by: StoppedBy
    elapsed_s: float
    seed: int
    set_aside: tuple[int, ...] = ()
    set_aside_units: tuple[int, ...] = ()
    set_aside_reasons: tuple[str, ...] = ()
    balance: tuple[MetricBalance, ...] = ()
    fell_back: bool = False
    kept_source: bool = False
    move_budget: float | None = None

    @property
    def territory_of(self) -> dict[str, int]:
        return dict(zip(self.unit_ids, self.assignment.tolist(), strict=True))


__all__ = ["MetricBalance", "Plan", "StoppedBy"]
