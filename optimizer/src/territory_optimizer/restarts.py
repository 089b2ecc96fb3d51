"""Restarts of the search from fresh and perturbed starts, and the recombination of every territory they saw."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from territory_optimizer.clock import Clock
from territory_optimizer.columns import grown_territories
from territory_optimizer.diffusion import diffuse
from territory_optimizer.model import Model
from territory_optimizer.partition import metis_seed
from territory_optimizer.pool import TerritoryPool
from territory_optimizer.problem import Options
from territory_optimizer.search import Search, Weights
from territory_optimizer.seed import balance_weight, power_diagram_seed
from territory_optimizer.stages import AIM, MIP_CALLS, SMALL, judged, staged_search

# Independent starts (power diagram seeds); the later restarts perturb the best plan. Few fresh starts and a long
# patience: the perturbed restarts cost about half a fresh one, and after the fresh starts the set partitioning takes
# territories grown from every unit too (columns.py), which brings what more fresh starts would. On North Carolina
# (32 seeds) 2 starts, a patience of 8 and the grown territories gave a mean Polsby-Popper of 0.389 (minimum 0.378)
# against 0.386 (0.360) with 4 starts, a patience of 10 and no grown territories, in about the same time
FRESH = 2
FRESH_EFFORT = 16  # effort divisor of one fresh start on a small instance
PERTURBED_EFFORT = 8  # effort divisor of one perturbed restart
MAX_RESTARTS = 20  # restarts on small instances at most (runs that find no feasible plan use them all)
PATIENCE = 8  # perturbed restarts in a row that find nothing better end the run (once a plan is feasible)
# ... unless the recombination that follows them, of every territory seen with grown ones from the best plan, finds a
# better plan. Where such a recombination has paid in the run, one that finds nothing is followed by a fresh start
# (DIVERSIFY at most) whose territories the next recombination can join to the rest. On North Carolina K=10 over 64
# seeds: mean Polsby-Popper 0.395, 56 seeds at 0.39 or more, against 0.389 and 41 without either, for a mean run of
# 2.8 s against 1.6 s; on Georgia's counties, where grown territories never pay, one recombination costs 1.7 s
DIVERSIFY = 2
PERTURB_PAIRS = 6  # pairs of territories re-split, balance loosened, to perturb the best plan (one more per stall)
METIS_RUNS = 4  # METIS partitions per start on a large instance, the best kept
LARGE_STARTS = 4  # starts on a large instance at most: one, and more only while no plan is feasible
PERTURBED_MIP_CALLS = 1  # MIP_CALLS in a perturbed restart: one, that saves the plans that end just out of balance
LOOSEN = 5.0  # how far the perturbation loosens each tolerance
POOL_SECONDS = 8.0  # the set-partitioning recombination


def run_restarts(
    model: Model,
    options: Options,
    weights: Weights,
    dvals: np.ndarray | None,
    clock: Clock,
    proven_infeasible: bool = False,
) -> list[int]:
    """Restarts, each a full search, keeping the best plan.

    Small instances: the balanced plans' compactness is rugged (a few coarse units decide it), so after FRESH
    independent starts each restart perturbs the best plan so far (re-splits a few neighbouring territories with the
    balance loosened, iterated local search) and searches again from there, cooler. When PATIENCE such restarts in a
    row find nothing better, the territories seen and grown ones are recombined from the best plan: a better plan
    there and the restarts go on from it, else (once grown territories have paid, DIVERSIFY times at most) a fresh
    start brings more territories, else the run ends; after MAX_RESTARTS in any case. Large instances: one start, more
    (LARGE_STARTS in all) only while no plan is feasible. A request that the precheck proved infeasible gets the fresh
    starts only. Counts, not seconds, decide, so a seed gives one plan."""
    small = model.n <= SMALL
    limit = MAX_RESTARTS if small else LARGE_STARTS
    if proven_infeasible:
        # no plan can be feasible, so restarts that wait for one would run to the cap (Texas's counties, where Harris
        # alone is 20% over a territory's target, took the whole minute): the fresh starts give the compromise
        limit = min(limit, FRESH)
    run_options = replace(options, effort=options.effort / (FRESH_EFFORT if small else 2))
    perturbed_options = replace(options, effort=options.effort / (PERTURBED_EFFORT if small else 2))
    best: list[int] | None = None
    best_key = (math.inf, math.inf)
    stall = 0
    pool = TerritoryPool(model, weights.polsby_popper > 0)
    pool_seen = 0
    grown: dict[bytes, float] = {}  # territories grown from every unit, once the fresh starts are done
    regrown = 0  # the pool's size at the last recombination with the grown territories
    paid = False  # whether a recombination with grown territories has given a better plan
    diversify, diversified = False, 0  # whether the next restart starts fresh, and how many such have run
    scale: float | None = None  # the temperature scale, measured once: it is the layer's, not one plan's
    for r in range(limit):
        clock.outer = (100.0 * r / limit, 100.0 * (r + 1) / limit)
        run_rng = np.random.default_rng([options.seed, r])
        # fresh starts until one is feasible: perturbing an infeasible plan mostly finds its neighbours
        perturbed = best is not None and r >= FRESH and best_key[0] <= 1e-12 and not diversify
        diversify = False
        if perturbed:
            assert best is not None
            start = perturb(model, best, weights, dvals, run_rng, PERTURB_PAIRS + stall)
        elif small:
            start = power_diagram_seed(model, run_rng, options.seed_restarts)
        else:
            start = _large_start(model, run_rng)
        clock.offer(start)
        clock.check()
        search = Search(model, start, weights, dvals)
        if scale is None:
            scale = search.typical_delta(run_rng)
        opts = perturbed_options if perturbed else run_options
        # a perturbed restart that ends out of balance is simply dropped (the best plan is balanced already), so it
        # gets one integer program: enough to save a plan that ends just out of balance
        harvest = pool if small else None
        plan = staged_search(
            model, opts, search, weights, run_rng, clock, hot=not perturbed, pool=harvest,
            mip_budget=PERTURBED_MIP_CALLS if perturbed else MIP_CALLS, scale=scale,
        )  # fmt: skip
        candidates = [plan]
        grow = small and r == FRESH - 1 and _grows_territories(model, pool, weights)
        found = None
        if small and (len(pool) > pool_seen or grow):
            pool_seen = len(pool)
            # the most compact plan made of territories seen so far, across restarts; once, after the fresh starts,
            # with territories grown from every unit too (pieces of basins no start reached)
            if grow:
                grown, regrown = _grown(model, pool, run_rng), len(pool)
            from_best = best if best is not None and best_key[0] <= 1e-12 else None
            found = pool.best_partition(_pool_seconds(clock), grown if grow else None, from_best)
            if found is not None:
                candidates.append(found[0])
        improved = False
        for cand in candidates:
            search.w = weights
            search.reset(cand)
            key = (round(search.violation, 12), judged(search))
            if key < best_key:
                improved = improved or best is None or key < (best_key[0], best_key[1] - 1e-9)
                best, best_key = cand, key
        assert best is not None  # the first candidate always improves on no plan
        paid = paid or (grow and found is not None and best is found[0])
        clock.hold(best, best_key[0])
        feasible = best_key[0] <= 1e-12
        if not small and feasible:
            break
        if small and feasible:
            search.reset(best)
            pool.add(search)  # the best plan's territories, so that recombinations can start from it
        if feasible and r >= FRESH:
            stall = 0 if improved else stall + 1
            if stall < PATIENCE:
                continue
            # Before giving up, everything the restarts saw is recombined with the grown territories, from the best
            # plan: a better plan found there lies in another basin, which the restarts go on to explore
            if not grown or len(pool) == regrown:
                break
            regrown = len(pool)
            recombined = _recombined(model, pool, grown, best, run_rng, clock)
            key = best_key
            if recombined is not None:
                search.reset(recombined)
                key = (round(search.violation, 12), judged(search))
            if recombined is not None and key < (best_key[0], best_key[1] - 1e-9):
                pool.add(search)
                best, best_key, stall, paid = recombined, key, 0, True
                clock.hold(best, best_key[0])
            elif paid and diversified < DIVERSIFY:
                # Where the grown territories have paid, a fresh start brings territories of a basin no restart
                # reached, and the recombination that follows it can join them to the rest
                diversified += 1
                diversify, stall = True, PATIENCE - 1
            else:
                break
    assert best is not None
    return best


def _large_start(model: Model, rng: np.random.Generator) -> list[int]:
    """A large layer's start: a multilevel partitioner's plan (short borders, nearly balanced on the balanced metrics
    together, in a second or two), then balanced by diffusion to within the search's aim, which the annealing alone
    reaches slowly when hundreds of territories are off at once."""
    start = metis_seed(model, rng, METIS_RUNS)
    if not model.balanced.any():
        return start
    w, target = balance_weight(model)
    return diffuse(model, start, w, target, AIM * float(np.min(model.tolerances[model.balanced])))


def _recombined(
    model: Model,
    pool: TerritoryPool,
    grown: dict[bytes, float],
    best: list[int],
    rng: np.random.Generator,
    clock: Clock,
) -> list[int] | None:
    """The most compact plan made of the pool's territories, those grown after the fresh starts and as many grown
    afresh (each growth reaches different pieces of the basins), from the best plan; None when none is found."""
    extra = dict(grown)
    for units, cost in _grown(model, pool, rng).items():
        extra.setdefault(units, cost)
    found = pool.best_partition(_pool_seconds(clock), extra, best)
    return None if found is None else found[0]


def _pool_seconds(clock: Clock) -> float:
    return max(0.1, min(POOL_SECONDS, clock.deadline - time.monotonic()))


def _grows_territories(model: Model, pool: TerritoryPool, weights: Weights) -> bool:
    """Grown territories serve Polsby-Popper (their cost) when every slot takes any territory and one metric is
    balanced (what growth aims at)."""
    balanced = any(np.isfinite(model.tolerances[j]) for j in pool.metrics)
    return weights.polsby_popper > 0 and model.has_shapes and pool.interchangeable and balanced


def _grown(model: Model, pool: TerritoryPool, rng: np.random.Generator) -> dict[bytes, float]:
    # a balanced metric first: growth stops once that one reaches its lower bound
    order = sorted(range(len(pool.metrics)), key=lambda q: not np.isfinite(model.tolerances[pool.metrics[q]]))
    metrics = [pool.metrics[q] for q in order]
    low, high = pool.low[order, 0], pool.high[order, 0]
    return grown_territories(model, low, high, metrics, int(rng.integers(2**31 - 1)))


def perturb(
    model: Model,
    plan: list[int],
    weights: Weights,
    dvals: np.ndarray | None,
    rng: np.random.Generator,
    pairs: int,
) -> list[int]:
    """The plan with a few pairs of neighbouring territories re-split for compactness, balance loosened."""
    search = Search(model, plan, weights, dvals)
    search.tol = [t * LOOSEN for t in search.tol]
    search.reset(plan)
    for _ in range(pairs):
        search.recombine(rng, math.inf, 8)
    return list(search.assign)
