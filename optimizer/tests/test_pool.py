import numpy as np
import pytest
from grids import grid_problem
from scipy.sparse import csr_matrix
from territory_optimizer import Metric, Options, mip
from territory_optimizer.model import compile_problem
from territory_optimizer.pool import TerritoryPool, slot_classes
from territory_optimizer.search import Search
from territory_optimizer.stages import search_weights

# A 4 x 4 grid of unit squares, one account each, four territories of exactly four units.
SQUARES = [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]  # four 2 x 2 blocks
TOP_SQUARES_BOTTOM_ROWS = [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
TOP_ROWS_BOTTOM_SQUARES = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]


def grid_pool(**kwargs):
    problem = grid_problem(rows=4, cols=4, k=4, metrics=[Metric("accounts", np.ones(16), 0.0)], **kwargs)
    model = compile_problem(problem)
    weights = search_weights(model, Options())
    return model, TerritoryPool(model, polsby_popper=True), lambda plan: Search(model, plan, weights, None)


def same_partition(a, b) -> bool:
    def blocks(plan):
        return {frozenset(np.flatnonzero(np.asarray(plan) == t).tolist()) for t in set(plan)}

    return blocks(a) == blocks(b)


def test_the_pool_joins_the_good_halves_of_two_plans():
    model, pool, search = grid_pool()
    pool.add(search(TOP_SQUARES_BOTTOM_ROWS))
    pool.add(search(TOP_ROWS_BOTTOM_SQUARES))
    assert len(pool) == 8
    found = pool.best_partition(time_limit=5.0)
    assert found is not None
    plan, cost = found
    assert same_partition(plan, SQUARES)
    # four squares: Polsby-Popper pi/4 each
    assert cost == pytest.approx(4 * (1 - np.pi / 4), abs=1e-9)


def test_a_start_plan_held_by_the_pool_is_where_the_program_begins_and_one_not_held_is_left_out():
    model, pool, search = grid_pool()
    pool.add(search(TOP_SQUARES_BOTTOM_ROWS))
    pool.add(search(TOP_ROWS_BOTTOM_SQUARES))
    plan, cost = pool.best_partition(time_limit=5.0, start=TOP_SQUARES_BOTTOM_ROWS)
    assert same_partition(plan, SQUARES)  # better than the start, which it began from
    # a start whose territories the pool does not hold (the squares were never added) is simply not used
    plan, _ = pool.best_partition(time_limit=5.0, start=[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 1, 1, 3, 3])
    assert same_partition(plan, SQUARES)


def test_only_territories_that_meet_the_constraints_on_their_own_enter_the_pool():
    model, pool, search = grid_pool()
    uneven = [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 0]  # 5, 4, 4, 3 units
    pool.add(search(uneven))
    assert len(pool) == 2  # the two blocks of four
    assert pool.best_partition(time_limit=5.0) is None  # and they do not cover the grid


def test_territories_with_locked_units_fill_only_their_own_slot():
    model, pool, search = grid_pool(locked={0: 0})
    classes = slot_classes(model)
    assert classes[0] == 0 and classes[1] == classes[2] == classes[3] != 0
    pool.add(search(SQUARES))
    plan, _ = pool.best_partition(time_limit=5.0)
    assert plan[0] == 0  # the locked unit's block went back to its territory


def test_the_integer_program_helper_returns_the_optimum_or_none():
    # knapsack: values 10, 7, 5, weights 4, 3, 2, capacity 5 -> take items 2 and 3 (value 12)
    matrix = csr_matrix(np.array([[4.0, 3.0, 2.0]]))
    x = mip.solve(
        -np.array([10.0, 7.0, 5.0]), matrix, np.array([-np.inf]), np.array([5.0]), np.zeros(3), np.ones(3),
        np.ones(3, dtype=bool), time_limit=5.0, node_limit=100,
    )  # fmt: skip
    assert x is not None and np.round(x).tolist() == [0.0, 1.0, 1.0]
    # x1 + x2 + x3 = 4 with binaries has no solution
    none = mip.solve(
        np.ones(3), csr_matrix(np.ones((1, 3))), np.array([4.0]), np.array([4.0]), np.zeros(3), np.ones(3),
        np.ones(3, dtype=bool), time_limit=5.0, node_limit=100,
    )  # fmt: skip
    assert none is None


def test_relaxing_first_keeps_the_integer_optimum_when_the_relaxation_is_fractional():
    # the same knapsack: its relaxation takes a fraction of an item (value 12.5), so the integer program must run
    matrix = csr_matrix(np.array([[4.0, 3.0, 2.0]]))
    args = (-np.array([10.0, 7.0, 5.0]), matrix, np.array([-np.inf]), np.array([5.0]), np.zeros(3), np.ones(3))
    x = mip.solve(*args, np.ones(3, dtype=bool), time_limit=5.0, node_limit=100, relax_first=True)
    assert x is not None and x.tolist() == [0.0, 1.0, 1.0]
    # the relaxation alone is fractional, which is why it is only a first try
    relaxed = mip.solve(*args, np.zeros(3, dtype=bool), time_limit=5.0, node_limit=100)
    assert relaxed is not None and np.any((relaxed > 1e-6) & (relaxed < 1 - 1e-6))
    # set partitioning of 3 units by the columns {0,1}, {2}, {0}, {1,2}: the relaxation is integral and is returned
    cover = csr_matrix(np.array([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]]))
    one = np.ones(3)
    x = mip.solve(
        np.array([1.0, 1.0, 0.5, 0.5]), cover, one, one, np.zeros(4), np.ones(4), np.ones(4, dtype=bool),
        time_limit=5.0, node_limit=100, relax_first=True,
    )  # fmt: skip
    assert x is not None and x.tolist() == [0.0, 0.0, 1.0, 1.0]
