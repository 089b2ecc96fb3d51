"""The compiled search keeps its incremental figures exact and never breaks a territory."""

import time

import numpy as np
from grids import grid_problem
from territory_optimizer import Metric, Options
from territory_optimizer.graph import non_contiguous, stays_connected
from territory_optimizer.kernel_moves import stays_connected as kernel_stays_connected
from territory_optimizer.model import compile_problem
from territory_optimizer.search import Search
from territory_optimizer.seed import power_diagram_seed
from territory_optimizer.stages import search_weights


def _search(rows=8, cols=8, k=4, **kwargs):
    problem = grid_problem(rows=rows, cols=cols, k=k, **kwargs)
    model = compile_problem(problem)
    rng = np.random.default_rng(3)
    start = power_diagram_seed(model, rng, 2)
    return model, Search(model, start, search_weights(model, Options()), None), rng


def _assert_same_figures(search, model):
    fresh = Search(model, list(search.assign), search.w, None)
    fresh.tol = search.tol
    fresh.reset(list(search.assign))
    for name in ("size", "tarea", "per", "comp", "load", "exc", "quad"):
        np.testing.assert_allclose(getattr(search, name), getattr(fresh, name), rtol=1e-9, atol=1e-9, err_msg=name)
    assert abs(search.violation - fresh.violation) < 1e-9
    assert abs(search.compactness - fresh.compactness) < 1e-9


def test_the_kernel_articulation_check_agrees_with_the_graph_search():
    model, search, rng = _search()
    st = search._static
    want, seen, queue = np.zeros(model.n, np.int64), np.zeros(model.n, np.int64), np.zeros(model.n, np.int64)
    stamp = np.zeros(1, np.int64)
    for _ in range(20):
        assign = rng.integers(0, 3, size=model.n)
        arr = assign.astype(np.int64)
        for u in range(model.n):
            expected = stays_connected(u, assign.tolist(), model.neighbors)
            got = kernel_stays_connected(u, arr[u], arr, st["nb_ptr"], st["nb_idx"], want, seen, queue, stamp)
            assert got == expected


def test_annealing_keeps_every_territory_contiguous_and_its_figures_exact():
    model, search, rng = _search()
    for temp in (1.0, 0.1, 0.01):
        search.anneal(20_000, temp, temp, rng, time.monotonic() + 60, lambda f, b: None)
        assert not non_contiguous(search.assign, model.k, model.neighbors)
        _assert_same_figures(search, model)


def test_pair_recombinations_keep_territories_contiguous_and_figures_exact():
    metrics = [Metric("a", np.arange(64, dtype=float) + 1, 0.05), Metric("b", np.ones(64), None, max_total=20)]
    model, search, rng = _search(metrics=metrics)
    for _ in range(200):
        search.recombine(rng, 0.05, 4)
    assert not non_contiguous(search.assign, model.k, model.neighbors)
    assert min(search.size) >= 1
    _assert_same_figures(search, model)


def test_locked_units_never_move_in_the_compiled_search():
    problem = grid_problem(rows=8, cols=8, k=4, locked={0: 0, 63: 3, 27: 1})
    model = compile_problem(problem)
    rng = np.random.default_rng(0)
    start = power_diagram_seed(model, rng, 2)
    search = Search(model, start, search_weights(model, Options()), None)
    search.anneal(20_000, 1.0, 0.01, rng, time.monotonic() + 60, lambda f, b: None)
    for _ in range(100):
        search.recombine(rng, 0.5, 4)
    assert [search.assign[u] for u in (0, 63, 27)] == [0, 3, 1]
