import math

import numpy as np
import pytest
import shapely
from grids import grid_problem, grid_squares
from scipy.sparse import csr_matrix
from territory_optimizer import Metric, Options, mip, optimize
from territory_optimizer.columns import grown_territories
from territory_optimizer.graph import territory_parts
from territory_optimizer.model import compile_problem
from territory_optimizer.pool import TerritoryPool


def connected(units, n: int, neighbors) -> bool:
    label = [0] * n
    for u in units:
        label[u] = 1
    return len(territory_parts(list(units), label, neighbors)) == 1


def grown(problem):
    model = compile_problem(problem)
    pool = TerritoryPool(model, polsby_popper=True)
    return model, pool, grown_territories(model, pool.low[:, 0], pool.high[:, 0], pool.metrics, seed=7)


def test_grown_territories_are_connected_in_bounds_and_priced_at_their_real_polsby_popper():
    problem = grid_problem(rows=8, cols=8, k=6, tolerance=0.03)
    model, pool, found = grown(problem)
    assert len(found) > 100
    geoms = grid_squares(8, 8)
    weights = model.values[:, 0]
    for key, cost in found.items():
        units = np.frombuffer(key, dtype=np.int64)
        assert len(set(units.tolist())) == len(units)
        assert pool.low[0, 0] <= weights[units].sum() <= pool.high[0, 0]
        assert connected(units.tolist(), model.n, model.neighbors)
        shape = shapely.union_all(geoms[units])
        assert cost == pytest.approx(1.0 - 4.0 * math.pi * shape.area / shape.length**2, abs=1e-9)


def test_growth_keeps_every_constrained_metric_in_its_bounds():
    rng = np.random.default_rng(3)
    metrics = [
        Metric("potential", rng.integers(5, 15, size=64).astype(float), 0.05),
        Metric("accounts", rng.integers(1, 4, size=64).astype(float), 0.15),
    ]
    model, pool, found = grown(grid_problem(rows=8, cols=8, k=5, metrics=metrics))
    assert found
    for key in found:
        units = np.frombuffer(key, dtype=np.int64)
        loads = model.values[units][:, pool.metrics].sum(axis=0)
        assert np.all(loads >= pool.low[:, 0]) and np.all(loads <= pool.high[:, 0])


def test_the_same_seed_grows_the_same_territories():
    problem = grid_problem(rows=6, cols=6, k=4, tolerance=0.05)
    assert grown(problem)[2] == grown(problem)[2]


def test_grown_territories_make_a_plan_when_the_pool_alone_cannot():
    model, pool, found = grown(grid_problem(rows=8, cols=8, k=4, tolerance=0.05))
    assert len(pool) == 0 and len(found) > 0
    plan, cost = pool.best_partition(time_limit=10.0, extra=found)
    plan = np.asarray(plan)
    weights = model.values[:, 0]
    for t in range(4):
        units = np.flatnonzero(plan == t)
        assert connected(units.tolist(), model.n, model.neighbors)
        assert abs(weights[units].sum() - model.targets[t, 0]) <= 0.05 * model.targets[t, 0] + 1e-9
    assert cost == pytest.approx(sum(found[np.flatnonzero(plan == t).astype(np.int64).tobytes()] for t in range(4)))


def test_relaxation_duals_price_the_columns_of_the_optimum_at_zero():
    # 3 units, columns {0,1}, {2}, {0}, {1,2}: the optimum {0} + {1,2} costs 1; its columns have reduced cost 0
    cover = csr_matrix(np.array([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]]))
    cost = np.array([1.0, 1.0, 0.5, 0.5])
    duals = mip.relaxation_duals(cost, cover, np.ones(3), np.ones(3), time_limit=5.0)
    assert duals is not None
    reduced = cost - cover.T @ duals
    assert reduced[2] == pytest.approx(0.0, abs=1e-9) and reduced[3] == pytest.approx(0.0, abs=1e-9)
    assert np.all(reduced >= -1e-9)
    assert float(np.sum(duals)) == pytest.approx(1.0)  # strong duality: the duals' total is the optimum's cost


def test_optimize_with_grown_territories_keeps_its_guarantees_and_its_seed():
    problem = grid_problem(rows=10, cols=10, k=5, tolerance=0.02)
    first = optimize(problem, Options(seed=4, time_limit_s=60))
    again = optimize(problem, Options(seed=4, time_limit_s=60))
    assert first.feasible and first.figures.non_contiguous == ()
    assert first.assignment.tolist() == again.assignment.tolist()


def test_a_unit_heavy_enough_on_its_own_is_a_territory():
    # a 3 x 3 grid whose centre holds half the weight: with k=2 the centre alone is one territory's target
    weights = np.ones(9)
    weights[4] = 8.0
    model, pool, found = grown(grid_problem(rows=3, cols=3, k=2, metrics=[Metric("w", weights, 0.01)]))
    centre = np.array([4], dtype=np.int64).tobytes()
    assert found[centre] == pytest.approx(1.0 - math.pi / 4, abs=1e-9)  # a unit square
    assert all(weights[np.frombuffer(key, dtype=np.int64)].sum() == pytest.approx(8.0) for key in found)


def test_grown_territories_are_refused_when_slots_are_not_interchangeable():
    model, pool, found = grown(grid_problem(rows=4, cols=4, k=2, locked={0: 0}))
    assert not pool.interchangeable
    with pytest.raises(ValueError, match="interchangeable"):
        pool.best_partition(time_limit=5.0, extra=found)


def grid_program():
    """Set partitioning over a grid's grown territories: its relaxation is fractional over many similar territories,
    the kind of program whose root work the node limit does not bound. Returns solve(work_limit, start=None)."""
    model, _, found = grown(grid_problem(rows=5, cols=6, k=3, tolerance=0.02))
    keys = list(found)
    members = [np.frombuffer(units, dtype=np.int64) for units in keys]
    rows = np.concatenate(members + [np.full(len(keys), model.n)])
    cols = np.concatenate([np.repeat(np.arange(len(keys)), [len(m) for m in members]), np.arange(len(keys))])
    cover = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(model.n + 1, len(keys)))
    cost = np.array([found[units] for units in keys])
    bounds = np.concatenate([np.ones(model.n), [3.0]])

    def solve(work_limit, start=None):
        return mip.solve(
            cost, cover, bounds, bounds, np.zeros(len(keys)), np.ones(len(keys)), np.ones(len(keys), dtype=bool),
            time_limit=120.0, node_limit=200, work_limit=work_limit, start=start,
        )  # fmt: skip

    return solve, cover, cost, bounds


def test_a_work_limit_stops_the_integer_program_at_the_same_point_every_time():
    solve, cover, _, bounds = grid_program()
    assert solve(0) is None  # stopped at the first check, before any solution
    first, again = solve(20), solve(20)
    assert first is not None and np.array_equal(first, again)
    assert np.allclose(cover @ first, bounds)


def test_a_start_gives_the_integer_program_a_solution_that_no_limit_takes_away():
    solve, cover, cost, bounds = grid_program()
    start = solve(20)
    assert start is not None
    x = solve(0, start=start)
    assert x is not None  # stopped at the first check as above, and yet it has the start's solution
    assert np.allclose(cover @ x, bounds)
    assert cost @ x <= cost @ start + 1e-9
