"""Balance figures against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_service.domain.statistics import balance, coefficient_of_variation, gini


def test_balance_of_10_20_30_against_the_mean():
    b = balance(np.array([10.0, 20.0, 30.0]), tolerance=0.25)
    # mean 20; deviations -50 %, 0 %, +50 %
    assert b.target == 20
    assert b.deviations_pct.tolist() == [-50.0, 0.0, 50.0]
    assert b.within.tolist() == [False, True, False]
    assert b.max_deviation_pct == 50.0
    # population std = sqrt((100 + 0 + 100) / 3) = 8.1650; / 20
    assert b.cv == pytest.approx(0.408248, abs=1e-6)
    # sum |xi - xj| over ordered pairs = 2 * (10 + 20 + 10) = 80; / (2 * 3^2 * 20) = 80 / 360
    assert b.gini == pytest.approx(2 / 9)


def test_balance_against_a_given_target():
    b = balance(np.array([90.0, 110.0, 100.0, 120.0]), tolerance=0.10, target=100.0)
    assert b.deviations_pct.tolist() == [-10.0, 10.0, 0.0, 20.0]
    assert b.within.tolist() == [True, True, True, False]
    assert b.max_deviation_pct == 20.0


def test_equal_values_are_perfectly_balanced_and_one_holder_of_everything_is_not():
    assert gini(np.array([5.0, 5.0, 5.0, 5.0])) == 0.0
    assert coefficient_of_variation(np.array([5.0, 5.0])) == 0.0
    # One of four holds everything: G = (n - 1) / n
    assert gini(np.array([0.0, 0.0, 0.0, 40.0])) == pytest.approx(0.75)


def test_empty_and_zero_sets_do_not_divide_by_zero():
    assert gini(np.array([])) == 0.0
    b = balance(np.array([0.0, 0.0]), tolerance=0.05)
    assert b.max_deviation_pct == 0.0 and b.cv == 0.0
