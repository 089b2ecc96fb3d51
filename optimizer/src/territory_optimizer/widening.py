"""A request the precheck proved infeasible: search with the unreachable tolerances widened to what the proof
allows, then tighten the plan found against the tolerances as requested."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from territory_optimizer.clock import Clock
from territory_optimizer.figures import Violation
from territory_optimizer.model import Model
from territory_optimizer.problem import Options
from territory_optimizer.restarts import MAX_RESTARTS, PERTURBED_EFFORT
from territory_optimizer.search import Search, Weights
from territory_optimizer.stages import judged, staged_search

WIDENED_SHARE = 0.5  # of a large proven-infeasible run's time, for the widened search (the rest: tightening)


def within_reach(model: Model, reasons: list[Violation]) -> Model:
    """The model that the search of a proven-infeasible request works on first: a tolerance that the proof shows no
    plan can meet is widened to the least max deviation the proof allows, so that the search reaches for the best
    compromise there can be rather than for a band that some territory cannot reach."""
    tolerances = model.tolerances.copy()
    for reason in reasons:
        if reason.least_deviation is not None and reason.metric in model.metric_names:
            j = model.metric_names.index(reason.metric)
            tolerances[j] = max(tolerances[j], reason.least_deviation * (1.0 + 1e-6))
    if np.array_equal(tolerances, model.tolerances):
        return model
    return replace(model, tolerances=tolerances)


def tightened(
    model: Model, plan: list[int], options: Options, weights: Weights, dvals: np.ndarray | None, clock: Clock
) -> list[int]:
    """The widened search's plan, searched again against the tolerances as requested: the territories that can be
    within them are pulled back in, while the one the proof concerns stays as near as it can be. The better of the
    two by the request's own measure. Virginia's counties at K=10 within 1%, where Arlington's group is at best
    5.09% off: the fresh starts against 1% left it 6.17% off; widened, then tightened, 5.09%. Over every state's
    counties at K=4, 8 and 12 (optimizer_proofs.py), 13 of the 51 proven requests got a plan nearer the target and
    none a farther one; 20 of the 34 with a known bound reached it, against 8."""
    clock.outer = (clock.outer[1], clock.outer[1])  # the run's percent does not go back
    rng = np.random.default_rng([options.seed, MAX_RESTARTS])
    search = Search(model, plan, weights, dvals)
    before = (round(search.violation, 12), judged(search))
    found = staged_search(
        model, replace(options, effort=options.effort / PERTURBED_EFFORT), search, weights, rng, clock, hot=False
    )
    search.w = weights
    search.reset(found)
    return found if (round(search.violation, 12), judged(search)) < before else plan
