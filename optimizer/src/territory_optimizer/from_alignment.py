"""A plan from an existing alignment: the territories no plan can balance set aside, the rest searched with a
move budget (or afresh), moves balance does not need sent back, and a plan no worse than the alignment kept."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from territory_optimizer.clock import Clock, finish
from territory_optimizer.feasibility import precheck
from territory_optimizer.figures import Violation, compute_figures
from territory_optimizer.graph import stays_connected
from territory_optimizer.model import Model
from territory_optimizer.plan import MetricBalance, Plan
from territory_optimizer.problem import Options, Problem
from territory_optimizer.restarts import run_restarts
from territory_optimizer.search import Search, Stop, Weights
from territory_optimizer.seed import balance_weight, repair_contiguity
from territory_optimizer.set_aside import Rest, deviations, move_budget, rest_of, unbalanceable, worse
from territory_optimizer.stages import disruption_values, judged, search_weights, staged_search
from territory_optimizer.widening import tightened, within_reach

# Searches from an existing alignment, the best kept: one search's count of moved units varies with its random
# draws (on North Carolina K=10, from a 19%-off alignment to +/-5%: 7 to 15 of 100 units over 8 draws, most at 7)
REBALANCE_RUNS = 4
# The proportionate move budget (Options.moves): this many times the weight that must change territory at least
# (chains of moves through the territories between an overloaded one and an underloaded one carry it more than
# once, and the search aims inside the tolerances), plus this many units of mean weight (units are coarse).
MOVE_FACTOR = 3.0
MOVE_FLOOR_UNITS = 2.0
# With the proportionate budget and no disruption measure asked for, each moved unit also costs this share of a
# unit of mean weight: units without weight (no accounts) are not moved for shape alone at no cost.
UNIT_COST = 0.1


def optimize_from_alignment(
    model: Model, problem: Problem, options: Options, clock: Clock, reasons: list[Violation]
) -> Plan:
    """From an existing alignment: set aside the territories no plan can balance, search the rest (from the
    alignment with a proportionate move budget, or afresh), and return a plan no worse than the alignment."""
    assert model.initial is not None
    w, target = balance_weight(model)
    start = model.initial.tolist()
    for u in np.flatnonzero(model.locked >= 0):
        start[u] = int(model.locked[u])
    start = repair_contiguity(model, start, w, target)
    aside = unbalanceable(model, start, problem.unit_ids)
    rest: Rest | None = None
    sub = model
    if 0 < len(aside.territories) < model.k:  # every territory set aside: nothing to search, the source stays
        rest = rest_of(model, start, aside)
        sub = rest.model
    sub_start = start
    if rest is not None:
        assert rest.model.initial is not None  # the rest starts from the source's plan
        sub_start = rest.model.initial.tolist()
    source_dev = deviations(sub, sub_start)
    clock.model = sub
    clock.worse = lambda plan: worse(sub, plan, source_dev)
    clock.safe = clock.best_plan = sub_start

    dvals, dmetric = disruption_values(sub, options)
    max_moved = None
    budget = None
    if options.max_moved_units is not None:
        max_moved = float(options.max_moved_units)
    elif options.max_moved_weight is not None:
        max_moved = options.max_moved_weight / (sub.values[:, dmetric].mean() or 1.0)
    elif options.moves == "proportionate" and sub.k > 0 and sub.balanced.any():
        budget = move_budget(sub, MOVE_FACTOR, MOVE_FLOOR_UNITS)
        mean = float(sub.values[:, dmetric].mean()) or 1.0
        if options.disruption == "units":
            max_moved = budget / mean  # dvals are ones: the budget as a number of units of mean weight
        elif options.disruption == "weight":
            max_moved = budget / mean
        else:
            dvals = sub.values[:, dmetric] / mean + UNIT_COST
            max_moved = budget / mean * (1.0 + UNIT_COST)
    weights = search_weights(sub, options)
    if max_moved is not None and weights.disruption == 0.0:
        weights = Weights(
            weights.balance, weights.polsby_popper, 0.0, weights.inertia, 0.5 * weights.balance * sub.k / sub.n
        )

    best = sub_start
    search: Search | None = None
    if len(aside.territories) < model.k:
        try:
            clock.enter("seed", 0.0, 5.0)
            if options.moves == "free":
                fresh = replace(sub, initial=None)
                clock.model = fresh
                free = replace(options, disruption="none")
                sub_ids = [problem.unit_ids[u] for u in rest.units] if rest is not None else problem.unit_ids
                sub_reasons = reasons if rest is None else precheck(fresh, sub_ids)
                widened = within_reach(fresh, sub_reasons)
                fw = search_weights(fresh, free)
                best = run_restarts(widened, free, fw, None, clock, proven_infeasible=bool(sub_reasons))
                if widened is not fresh:
                    best = tightened(fresh, best, free, fw, None, clock)
                clock.hold(best, 0.0)
            else:
                rng = np.random.default_rng(options.seed)
                best_key = (True, math.inf, math.inf)
                for r in range(REBALANCE_RUNS):
                    clock.outer = (100.0 * r / REBALANCE_RUNS, 100.0 * (r + 1) / REBALANCE_RUNS)
                    search = Search(sub, sub_start, weights, dvals)
                    search.max_moved = max_moved
                    run_rng = rng if r == 0 else np.random.default_rng([options.seed, r])
                    plan = staged_search(sub, options, search, weights, run_rng, clock)
                    if weights.disruption > 0:
                        plan = undo_moves(sub, plan, weights, dvals, clock.deadline)
                    search.w = weights
                    search.reset(plan)
                    # a plan no worse than the alignment first, then balance, then the objective
                    key = (worse(sub, plan, source_dev), round(search.violation, 12), judged(search))
                    if key < best_key:
                        best, best_key = plan, key
                    clock.hold(best, best_key[1])
        except Stop as stop:
            if clock.best_plan is not None:
                best = clock.best_plan
            if search is not None and stop.args and stop.args[0] is not None and best:
                best = _better(sub, best, stop.args[0], search)
            if clock.stopped_by == "completed":
                cancelled = options.cancel is not None and options.cancel.is_set()
                clock.stopped_by = "cancelled" if cancelled else "time_limit"
    fell_back = worse(sub, best, source_dev)
    if fell_back:
        best = clock.safe if clock.safe is not None else sub_start
    kept_source = list(best) == list(sub_start)
    balance = tuple(
        MetricBalance(sub.metric_names[j], float(sub.tolerances[j]), float(source_dev[j]), float(plan_dev))
        for j, plan_dev in enumerate(deviations(sub, best))
        if sub.balanced[j]
    )
    full = list(best) if rest is None else rest.lift(list(best))
    assignment = np.asarray(full, dtype=np.int64)
    figures = compute_figures(model, assignment, dmetric)
    violations = list(figures.violations)
    if options.max_moved_units is not None or options.max_moved_weight is not None:
        moved = figures.moved_units if options.max_moved_units is not None else figures.moved_weight
        limit = options.max_moved_units if options.max_moved_units is not None else options.max_moved_weight
        if limit is not None and moved > limit + 1e-9:
            violations.append(Violation("move_limit", f"{moved:g} moved, limit {limit:g}"))
    clock.model = sub
    finish(clock, list(best))
    return Plan(
        assignment=assignment,
        unit_ids=tuple(problem.unit_ids),
        feasible=not violations,
        violations=tuple(violations),
        infeasible_reasons=tuple(reasons),
        figures=figures,
        stopped_by=clock.stopped_by,
        elapsed_s=time.monotonic() - clock.start,
        seed=options.seed,
        set_aside=aside.territories,
        set_aside_units=aside.units,
        set_aside_reasons=aside.reasons,
        balance=balance,
        fell_back=fell_back,
        kept_source=kept_source,
        move_budget=budget,
    )


def undo_moves(
    model: Model, plan: list[int], weights: Weights, dvals: np.ndarray | None, deadline: float = math.inf
) -> list[int]:
    """The plan with every moved unit that can go back to its initial territory sent back: a unit returns when it
    borders that territory, its leaving keeps its current territory connected, and every territory stays within its
    tolerances and caps. The search trades moves against compactness and aims inside the tolerances, so it can end
    with moves that balance no longer needs; each return is one unit less moved and nothing else gets worse. Past
    the deadline it stops where it is (every return made so far is kept)."""
    assert model.initial is not None
    search = Search(model, plan, weights, dvals)
    if search.violation > 1e-12:
        return plan  # balance not reached: the moves are all still wanted
    initial = model.initial.tolist()
    changed = True
    while changed and time.monotonic() < deadline:
        changed = False
        for u in range(model.n):
            if u % 256 == 0 and time.monotonic() > deadline:
                break
            a, home = search.assign[u], initial[u]
            if a == home or model.locked[u] >= 0 or search.size[a] <= 1:
                continue
            if not any(search.assign[v] == home for v in model.neighbors[u]):
                continue
            if not stays_connected(u, search.assign, model.neighbors):
                continue
            search.move(u, home)
            if search.violation > 1e-12:
                search.move(u, a)
            else:
                changed = True
    return list(search.assign)


def _better(model: Model, current: list[int], candidate: list[int], search: Search) -> list[int]:
    """The plan with the smaller balance violation, then the smaller cost, under the search's current weights."""
    scored = []
    for plan in (current, candidate):
        search.reset(plan)
        scored.append((round(search.violation, 12), search.objective()))
    choice = candidate if scored[1] <= scored[0] else current
    search.reset(choice)
    return list(choice)
