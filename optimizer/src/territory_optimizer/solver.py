"""optimize(problem, options) -> Plan: check the request, search (restarts, widened when proven infeasible, or from
an initial alignment: from_alignment.py), and report the real figures."""

from __future__ import annotations

import time

import numpy as np

from territory_optimizer.clock import Clock, finish, until
from territory_optimizer.feasibility import precheck
from territory_optimizer.figures import compute_figures
from territory_optimizer.from_alignment import optimize_from_alignment
from territory_optimizer.model import compile_problem
from territory_optimizer.plan import MetricBalance, Plan
from territory_optimizer.problem import Options, Problem
from territory_optimizer.restarts import run_restarts
from territory_optimizer.search import Stop
from territory_optimizer.stages import SMALL, disruption_values, search_weights
from territory_optimizer.widening import WIDENED_SHARE, tightened, within_reach


def optimize(problem: Problem, options: Options | None = None) -> Plan:
    """Design territories for `problem`. Raises ProblemError on a malformed request; an infeasible one still returns
    the best plan found, with `feasible=False` and the reasons."""
    options = options or Options()
    model = compile_problem(problem)
    if options.max_moved_units is not None and options.max_moved_weight is not None:
        raise ValueError("give max_moved_units or max_moved_weight, not both")
    if (options.max_moved_units is not None or options.max_moved_weight is not None) and model.initial is None:
        raise ValueError("a move limit needs an initial alignment (Problem.initial)")
    if options.moves == "free" and (options.max_moved_units is not None or options.max_moved_weight is not None):
        raise ValueError("moves='free' redesigns from scratch: it takes no move limit")
    clock = Clock(options, model)  # before the precheck, whose proofs count in the run's time
    clock.enter("precheck", 0.0, 0.0)  # its proofs can take a second on a large layer: say what the run is doing
    reasons = precheck(model, problem.unit_ids)
    if model.initial is not None:
        return optimize_from_alignment(model, problem, options, clock, reasons)
    weights = search_weights(model, options)
    dvals, dmetric = disruption_values(model, options)

    best: list[int] = []
    try:
        clock.enter("seed", 0.0, 5.0)
        widened = within_reach(model, reasons)
        if widened is not model and model.n > SMALL:
            # a large layer's widened search would polish until the deadline and leave the tightening no time: it
            # gets a share of the time left, the tightening the rest
            share = time.monotonic() + WIDENED_SHARE * max(0.0, clock.deadline - time.monotonic())
            best = until(clock, share, lambda: run_restarts(widened, options, weights, dvals, clock, True))
        else:
            best = run_restarts(widened, options, weights, dvals, clock, proven_infeasible=bool(reasons))
        if widened is not model:
            best = tightened(model, best, options, weights, dvals, clock)
    except Stop:
        if clock.best_plan is not None:
            best = clock.best_plan
        if clock.stopped_by == "completed":
            clock.stopped_by = "cancelled" if options.cancel is not None and options.cancel.is_set() else "time_limit"
    assignment = np.asarray(best, dtype=np.int64)
    figures = compute_figures(model, assignment, dmetric)
    finish(clock, best)
    return Plan(
        assignment=assignment,
        unit_ids=tuple(problem.unit_ids),
        feasible=not figures.violations,
        violations=figures.violations,
        infeasible_reasons=tuple(reasons),
        figures=figures,
        stopped_by=clock.stopped_by,
        elapsed_s=time.monotonic() - clock.start,
        seed=options.seed,
    )


__all__ = ["MetricBalance", "Plan", "optimize"]
