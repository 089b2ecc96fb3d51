"""From an existing alignment: never worse than it, the unbalanceable part set aside, moves in proportion to the
imbalance; and for every run, progress that never goes back and a time limit that holds."""

import time

import numpy as np
import pytest
from grids import grid_problem
from territory_optimizer import Metric, Options, from_alignment, optimize
from territory_optimizer.model import compile_problem

QUADRANTS = np.array([(q % 6 >= 3) + 2 * (q // 6 >= 3) for q in range(36)])


def balanceable_deviation(values: np.ndarray, plan: np.ndarray, k: int, aside=()) -> float:
    """Max deviation of the territories not set aside from their own mean: computed here, not by the optimizer."""
    totals = np.bincount(plan, weights=values, minlength=k)
    rest = np.array([totals[t] for t in range(k) if t not in aside])
    return float(np.max(np.abs(rest - rest.mean())) / rest.mean())


PATH_SPLIT = np.array([0, 0, 0, 1, 1, 1])


def trade_off_problem():
    """Six units in a row, two territories split in the middle: exactly balanced on count, 25% off on potential
    (unit 0 holds three times the others). The only split that evens out potential ({0, 1} | {2..5}) puts count
    33% off, beyond its 30%: less excess in all (0.07 against 0.40), which is what the search minimises, but worse
    than the source on count."""
    metrics = [Metric("count", np.ones(6), 0.30), Metric("potential", [3.0, 1, 1, 1, 1, 1], 0.05)]
    return grid_problem(1, 6, k=2, metrics=metrics, initial=PATH_SPLIT)


def test_without_the_guard_the_search_would_return_a_plan_worse_than_the_source(monkeypatch):
    problem = trade_off_problem()
    monkeypatch.setattr(from_alignment, "worse", lambda *a: False)
    plan = optimize(problem, Options(seed=1, time_limit_s=30, effort=0.3))
    count = balanceable_deviation(np.ones(6), plan.assignment, 2)
    assert count > 0.30 + 1e-9  # the count, exactly balanced in the source, is now out of its tolerance


def test_the_plan_is_never_worse_than_the_source_on_any_metric_and_says_nothing_better_was_found():
    problem = trade_off_problem()
    plan = optimize(problem, Options(seed=1, time_limit_s=30, effort=0.3))
    assert balanceable_deviation(np.ones(6), plan.assignment, 2) <= 0.30 + 1e-9
    assert plan.fell_back and plan.kept_source
    assert np.array_equal(plan.assignment, PATH_SPLIT)
    assert {b.name: round(b.source, 6) for b in plan.balance} == {"count": 0.0, "potential": 0.25}
    assert {b.name: round(b.plan, 6) for b in plan.balance} == {"count": 0.0, "potential": 0.25}


def heavy_problem(**kwargs):
    """An 8x8 grid in four quadrants; unit 0 alone holds 1.5 territories' worth; the other quadrants are uneven."""
    rng = np.random.default_rng(3)
    values = rng.integers(5, 15, size=64).astype(float)
    initial = np.array([(q % 8 >= 4) + 2 * (q // 8 >= 4) for q in range(64)])
    initial[[20, 21, 28, 29]] = 3  # territory 1 gives four units to territory 3
    initial[[3, 11]] = 1  # and takes two of territory 0's: still contiguous
    values[0] = 1.5 * values.sum() / 3  # about 1.5 x the mean once counted in: alone above +-10%
    return grid_problem(8, 8, metrics=[Metric("potential", values, 0.10)], initial=initial, **kwargs), values, initial


def test_a_unit_heavier_than_a_territory_may_hold_sets_its_territory_aside_and_the_rest_is_balanced():
    problem, values, initial = heavy_problem()
    plan = optimize(problem, Options(seed=0, time_limit_s=30, effort=0.3))
    assert plan.set_aside == (0,) and plan.set_aside_units == (0,)
    assert "'u0' alone has potential" in plan.set_aside_reasons[0]
    assert np.array_equal(plan.assignment == 0, initial == 0)  # kept as it was
    before = balanceable_deviation(values, initial, 4, aside=(0,))
    after = balanceable_deviation(values, plan.assignment, 4, aside=(0,))
    assert after <= max(before, 0.10) + 1e-9 and after < before
    (b,) = plan.balance
    assert b.source == pytest.approx(before) and b.plan == pytest.approx(after)
    assert not plan.feasible and plan.infeasible_reasons  # the request as a whole still cannot be met
    assert plan.move_budget is not None and plan.figures.moved_weight <= plan.move_budget + 1e-9


def test_moves_stay_proportionate_to_the_imbalance_unless_a_redesign_is_asked_for():
    rng = np.random.default_rng(0)
    values = rng.integers(5, 15, size=36).astype(float)
    initial = QUADRANTS.copy()
    problem = grid_problem(metrics=[Metric("w", values, 0.05)], initial=initial)
    model = compile_problem(problem)
    totals = np.bincount(initial, weights=values, minlength=4)
    need = np.maximum(totals - model.targets[:, 0] * 1.05, 0).sum()
    plan = optimize(problem, Options(seed=0, time_limit_s=30, effort=0.3))
    assert plan.move_budget == pytest.approx(
        from_alignment.MOVE_FACTOR * need + from_alignment.MOVE_FLOOR_UNITS * values.mean()
    )
    assert plan.figures.moved_weight <= plan.move_budget + 1e-9
    free = optimize(problem, Options(seed=0, time_limit_s=30, effort=0.3, moves="free"))
    assert free.move_budget is None
    assert free.figures.moved_units > plan.figures.moved_units
    for p in (plan, free):
        assert (
            balanceable_deviation(values, p.assignment, 4)
            <= max(balanceable_deviation(values, initial, 4), 0.05) + 1e-9
        )


def test_a_balanced_source_needs_no_moves():
    values = np.ones(36)
    problem = grid_problem(metrics=[Metric("w", values, 0.05)], initial=QUADRANTS)
    plan = optimize(problem, Options(seed=0, time_limit_s=30, effort=0.3))
    assert plan.figures.moved_units == 0 and plan.kept_source


@pytest.mark.parametrize("initial", [None, "quadrants"], ids=["from scratch", "from an alignment"])
def test_progress_never_goes_back_and_the_time_limit_holds(initial):
    seen = []
    problem = grid_problem(
        30, 30, k=24, tolerance=0.01, initial=None if initial is None else np.repeat(np.arange(24), 900 // 24 + 1)[:900]
    )
    started = time.monotonic()
    plan = optimize(problem, Options(seed=0, time_limit_s=1.0, progress=seen.append))
    wall = time.monotonic() - started
    percents = [p.percent for p in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert wall <= 1.0 + 4.0, wall  # generous: the machine may be loaded
    assert plan.elapsed_s <= wall


def test_the_best_figure_reported_is_that_of_the_plan_the_run_would_return():
    problem, values, initial = heavy_problem()
    seen = []
    plan = optimize(problem, Options(seed=0, time_limit_s=30, effort=0.3, progress=seen.append))
    source = balanceable_deviation(values, initial, 4, aside=(0,))
    figures = [p.best_max_deviation for p in seen if p.best_max_deviation is not None]
    assert figures and all(f <= max(source, 0.10) + 1e-9 for f in figures)  # never worse than the source
    assert seen[-1].stage == "done"
    assert seen[-1].best_max_deviation == pytest.approx(balanceable_deviation(values, plan.assignment, 4, aside=(0,)))
