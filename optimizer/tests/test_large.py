"""Large instances: the multilevel partitioner's start (partition.py), balance by diffusion (diffusion.py), and a
whole run with hundreds of territories on thousands of units."""

from __future__ import annotations

import numpy as np
from grids import grid_problem
from territory_optimizer import Metric, Options, optimize
from territory_optimizer.diffusion import diffuse
from territory_optimizer.graph import non_contiguous
from territory_optimizer.model import compile_problem
from territory_optimizer.partition import join_detached, metis_seed
from territory_optimizer.seed import balance_weight


def deviations(model, assign) -> np.ndarray:
    w, target = balance_weight(model)
    load = np.bincount(np.asarray(assign), weights=w, minlength=model.k)
    return np.abs(load - target) / target


def test_metis_start_is_contiguous_keeps_locked_units_and_homes_in_their_territories():
    locked = {0: 3, 899: 7, 450: 11}
    model = compile_problem(grid_problem(30, 30, k=40, locked=locked))
    assign = metis_seed(model, np.random.default_rng(0), runs=2)
    assert sorted(set(assign)) == list(range(40))
    assert non_contiguous(assign, model.k, model.neighbors) == []
    for unit, territory in locked.items():
        assert assign[unit] == territory
    # nearly balanced on its own: METIS is told the tolerance
    assert deviations(model, assign).max() < 0.5


def test_detached_pieces_join_a_neighbour_and_locked_pieces_stay():
    model = compile_problem(grid_problem(4, 4, k=2, locked={15: 0}))
    # territory 0 in two pieces: the left column, and the far corner (15) that is locked to it. The locked piece is
    # the one that stays; the left column joins its only neighbour, territory 1
    labels = np.ones(16, dtype=np.int64)
    labels[[0, 4, 8, 12]] = 0
    labels[15] = 0
    w, target = balance_weight(model)
    assign = join_detached(model, labels, w, target)
    assert assign[15] == 0
    assert all(assign[u] == 1 for u in (0, 4, 8, 12))
    assert non_contiguous(assign, model.k, model.neighbors) == []


def test_diffusion_balances_a_lopsided_plan_without_breaking_territories():
    model = compile_problem(grid_problem(20, 20, k=8, tolerance=0.05))
    # eight vertical strips of unequal width: 2,2,2,2,3,3,3,3 columns (the first four 25% light, the rest 25% heavy)
    widths = [2, 2, 2, 2, 3, 3, 3, 3]
    col_label = np.repeat(np.arange(8), widths)
    assign = [int(col_label[u % 20]) for u in range(400)]
    before = deviations(model, assign).max()
    w, target = balance_weight(model)
    after_plan = diffuse(model, assign, w, target, aim=0.04)
    after = deviations(model, after_plan).max()
    assert before > 0.2
    assert after <= 0.04 + 1e-9
    assert non_contiguous(after_plan, model.k, model.neighbors) == []


def test_diffusion_never_moves_locked_units():
    locked = {u: 0 for u in range(0, 400, 20)}  # the left column stays in territory 0
    model = compile_problem(grid_problem(20, 20, k=8, tolerance=0.05, locked=locked))
    widths = [2, 2, 2, 2, 3, 3, 3, 3]
    col_label = np.repeat(np.arange(8), widths)
    assign = [int(col_label[u % 20]) for u in range(400)]
    w, target = balance_weight(model)
    plan = diffuse(model, assign, w, target, aim=0.04)
    assert all(plan[u] == 0 for u in locked)


def test_hundreds_of_territories_on_thousands_of_units_are_balanced_and_contiguous():
    # 4,800 units, K=160: 30 units a territory, the shape of a national ZIP-level design at a tenth of the size
    problem = grid_problem(60, 80, k=160, tolerance=0.05, seed=3)
    plan = optimize(problem, Options(seed=0, time_limit_s=40))
    assert plan.feasible, plan.violations[:3]
    model = compile_problem(problem)
    assert non_contiguous(plan.assignment.tolist(), model.k, model.neighbors) == []
    assert len(set(plan.assignment.tolist())) == 160
    assert plan.figures.max_deviation <= 0.05 + 1e-9


def test_two_metrics_at_scale():
    rng = np.random.default_rng(5)
    potential = rng.gamma(2.0, 50.0, 3600)
    accounts = np.maximum(1, np.round(potential / 20 * rng.uniform(0.5, 1.5, 3600)))
    metrics = [Metric("potential", potential, 0.05), Metric("accounts", accounts, 0.10)]
    problem = grid_problem(60, 60, k=100, metrics=metrics)
    plan = optimize(problem, Options(seed=1, time_limit_s=40))
    assert plan.feasible, plan.violations[:3]
    model = compile_problem(problem)
    assert non_contiguous(plan.assignment.tolist(), model.k, model.neighbors) == []
