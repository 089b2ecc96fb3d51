"""One search, in stages (anneal, repair balance, polish compactness), the weights it starts from, and how
plans are compared."""

from __future__ import annotations

import math
import time

import numpy as np

from territory_optimizer.clock import Clock
from territory_optimizer.model import Model
from territory_optimizer.pool import TerritoryPool
from territory_optimizer.problem import Options
from territory_optimizer.rebalance import DEEP_NODES, QUICK_NODES, rebalance_round
from territory_optimizer.search import COARSE, Search, Weights

# Safety limits in seconds of the integer programs. Node limits end them (counts keep a seed's plan the same); a
# limit in seconds that binds makes the plan depend on the machine's load. Measured on a loaded 2-core machine, the
# repair rounds took up to 0.64 s and the set partitioning up to 1.32 s: limits of 1.5 s and 2 s were hit under
# heavier load, and North Carolina's plan for one seed changed from run to run. The run's own time limit still bounds
# them.
MIP_SECONDS = 6.0  # one balance-repair round
ADAPT = 1.15  # step of the adaptive balance weight, per round
POLISH = 3  # polish rounds per search round
# Small instances polish briefly: there the balanced plans are isolated (the pairs of territories of a polished North
# Carolina plan have 1 to 19 balanced re-splits each, the current one the most compact), so the polish finds little
# that the next restart would not, and the restarts' breadth is what the time buys
POLISH_SMALL = 1
AIM = 0.8  # share of each tolerance the search aims at before polishing
# Small instances (up to SMALL units) run many short searches: their balanced plans' compactness is rugged (a few
# coarse units decide it), so breadth finds more than depth, and the territory pool recombines what they find.
SMALL = 400
MIP_CALLS = 6  # balance-repair integer programs per search at most
RECOM_TEMP = 2.0  # starting temperature of the polish's single-tree re-splits, in units of the typical move


def search_weights(model: Model, options: Options) -> Weights:
    """The cost's weights for the compactness and disruption asked for, balance scaled to the units per territory."""
    per_territory = model.n / model.k
    balance = 2.0 * max(per_territory, 4.0)
    pp, inertia = {"polsby_popper": (1.0, 0.1), "inertia": (0.0, 1.0), "none": (0.0, 0.0)}[options.compactness]
    disruption = 0.0
    if model.initial is not None and options.disruption != "none":
        disruption = 0.5 * balance / per_territory
        pp, inertia = pp * 0.1, inertia * 0.1
    return Weights(balance=balance, polsby_popper=pp, quadratic=0.0, inertia=inertia, disruption=disruption)


def disruption_values(model: Model, options: Options) -> tuple[np.ndarray | None, int | None]:
    """What moving each unit costs (ones, or its weight on the first balanced metric) and that metric's index."""
    if model.initial is None:
        return None, None
    cols = np.flatnonzero(model.balanced)
    j = int(cols[0]) if len(cols) else 0
    if options.disruption == "weight" or options.max_moved_weight is not None:
        col = model.values[:, j]
        mean = col.mean() if col.mean() > 0 else 1.0
        return col / mean, j
    return np.ones(model.n), j


def judged(search: Search) -> float:
    """What restarts are compared on: the objective, with compactness as asked. The moment-of-inertia term that
    steers the search towards round shapes is left out when Polsby-Popper is what was asked for."""
    if search.w.polsby_popper == 0.0:
        return search.objective()
    pp = sum(1.0 - 4.0 * math.pi * a / (p * p) for a, p in zip(search.tarea, search.per, strict=True) if p > 0)
    return search.w.polsby_popper * pp + search.w.disruption * search.moved


def staged_search(
    model: Model,
    options: Options,
    search: Search,
    weights: Weights,
    rng: np.random.Generator,
    clock: Clock,
    hot: bool = True,
    pool: TerritoryPool | None = None,
    mip_budget: int = MIP_CALLS,
    scale: float | None = None,
) -> list[int]:
    """Anneal (single-unit moves + pair recombinations), repair balance (recombinations of the territories out of
    tolerance, then integer programming if they are not enough), then polish compactness without leaving the
    feasible region. Budgets are counts (not seconds) so a seed gives one plan."""
    disruptive = weights.disruption > 0
    rounds = max(10, int(options.effort * (60 if disruptive else 150)))
    burst = max(3000, 10 * model.n)
    # Pair recombinations per round: what moves balance and shape in big steps where single units are coarse (few
    # per territory), so coarse layers get up to one per territory per round and fine ones fewer.
    per_territory = model.n / model.k
    pairs = max(1, round(model.k * min(1.0, COARSE / per_territory)))
    trees = 4
    if scale is None:
        scale = search.typical_delta(rng)
    best = list(search.assign)
    best_key = (round(search.violation, 12), search.objective())

    def keep(plan: list[int], v: float | None = None, c: float | None = None) -> None:
        nonlocal best, best_key
        key = (round(search.violation if v is None else v, 12), search.objective() if c is None else c)
        if key < best_key:
            best, best_key = list(plan), key
            clock.offer(best)

    def anneal(temp: float) -> None:
        plan, v, c = search.anneal(burst, temp, temp, rng, clock.deadline, lambda f, b: None, search.max_moved)
        keep(plan, v, c)
        keep(search.assign)
        if pool is not None:
            pool.add(search)

    # 1. anneal: penalised balance (excess beyond tolerance + squared deviation), compactness, disruption.
    # The search and the repair aim at 80% of each tolerance: a margin so that the plan lands inside the real one.
    real_tolerances = list(search.tol)
    search.tol = [t * AIM if t != float("inf") else t for t in real_tolerances]
    clock.enter("search", 5.0, 70.0)
    # The squared-deviation pull moves weight across chains of territories; fine units (many per territory) need a
    # stronger pull to get past the compactness of the territories in between.
    pull = min(30.0, max(1.0, model.n / model.k / 6.0))
    search.reset(best)
    best_key = (round(search.violation, 12), search.objective())
    # a perturbed plan starts cooler: hot enough to reshape the perturbed territories, not to forget the rest
    t_start, t_end = (0.2 if hot else 0.1) * scale, 0.01 * scale
    # The balance weight adapts (up while the plan is out of tolerance, down while inside) so that the search keeps
    # to the edge of the feasible region, where the most compact balanced plans are, whatever the instance's scale.
    wb = weights.balance
    for r in range(rounds):
        clock.tick(r / rounds, best_key[0])
        search.w = Weights(wb, weights.polsby_popper, wb * pull, weights.inertia, weights.disruption)
        temp = t_start * (t_end / t_start) ** (r / rounds)
        if not disruptive or search.violation > 1e-12:
            for _ in range(pairs):
                clock.check()
                search.recombine(rng, temp, trees)
        anneal(temp)
        grow = search.violation > 1e-12
        wb = min(weights.balance * 1e3, wb * ADAPT) if grow else max(weights.balance * 0.1, wb / ADAPT)
    # 2. repair: recombine the territories out of tolerance with their neighbours; integer programming rounds of
    # simultaneous moves when that stalls; low-temperature annealing after each
    clock.enter("repair", 70.0, 85.0)
    search.w = Weights(weights.balance * 10, weights.polsby_popper, 0.0, weights.inertia, weights.disruption)
    search.reset(best)
    best_key = (round(search.violation, 12), search.objective())
    repair_rounds = 6 if options.effort >= 0.5 else 3
    mip_failed_on: list[int] | None = None
    mip_calls = 0
    nodes = QUICK_NODES
    for r in range(repair_rounds):
        if search.violation <= 1e-12:
            break
        clock.tick(r / repair_rounds, best_key[0])
        before = search.violation
        for _ in range(4 * pairs):
            if search.violation <= 1e-12:
                break
            clock.check()
            worst = search.worst_territory()
            around = search.neighbour_territories(worst)
            if around:
                search.recombine_pair(worst, around[int(rng.integers(len(around)))], rng, 0.0, 4 * trees)
        keep(search.assign)
        # the integer program is deterministic: a deep round that could not improve a plan would fail on it again
        if (
            mip_calls < mip_budget
            and search.violation > 1e-12
            and search.violation > 0.5 * before
            and search.assign != mip_failed_on
        ):
            mip_calls += 1
            moved = rebalance_round(search, max(0.1, min(MIP_SECONDS, clock.deadline - time.monotonic())), nodes)
            if not moved:
                if nodes == DEEP_NODES:
                    mip_failed_on = list(search.assign)
                nodes = DEEP_NODES  # a quick round that found nothing is followed by a deep one
            keep(search.assign)
        anneal(0.01 * scale)
    # 3. polish: compactness, balance now all but hard (against the real tolerances)
    search.tol = real_tolerances
    clock.enter("polish", 85.0, 100.0)
    # Polsby-Popper alone when it is what was asked: the inertia term only steers the earlier stages towards round
    # shapes, and here it would trade away the measure asked for
    inertia = 0.0 if weights.polsby_popper > 0 else weights.inertia
    search.w = Weights(weights.balance * 100, weights.polsby_popper, 0.0, inertia, weights.disruption)
    search.reset(best)
    best_key = (round(search.violation, 12), search.objective())
    # polishing inside the feasible region is where compactness is won on large layers: there it gets the longest
    # schedule (small layers' balanced plans are isolated, see POLISH_SMALL)
    polish = max(5, (POLISH_SMALL if model.n <= SMALL else POLISH) * rounds)
    for r in range(polish):
        clock.tick(r / polish, best_key[0])
        temp = 0.02 * scale * (0.05) ** (r / polish)
        if not disruptive:
            # Half the re-splits take the best cut of one random tree (near a uniformly drawn split) at a hotter
            # temperature: the best cut of many trees mostly restores the same split, a drawn one explores the
            # balanced plans around it. The best plan seen is kept, so exploring costs nothing in the result.
            recom_temp = RECOM_TEMP * scale * 0.01 ** (r / polish)
            for _ in range(pairs):
                clock.check()
                if rng.random() < 0.5:
                    search.recombine(rng, recom_temp, 1, exact=True)
                else:
                    search.recombine(rng, temp, trees)
        anneal(temp)
    return best
