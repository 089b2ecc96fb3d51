"""Territory design's pure parts: accounts summed per unit, white space filled, codes kept where their units are."""

from __future__ import annotations

import numpy as np
import shapely
from assignment_service.domain.design import Units, account_sums, closest_labels, fill_white_space, violation_body
from territory_optimizer.figures import Violation


def squares() -> Units:
    # Three unit squares side by side: [0,1], [1,2], [2,3] x [0,1].
    shapes = np.array([shapely.box(i, 0, i + 1, 1) for i in range(3)], dtype=object)
    return Units(["a", "b", "c"], shapes, [{"pop": 1}, {"pop": 2}, {"pop": 3}])


def test_accounts_count_in_the_unit_that_holds_them_and_outside_ones_are_counted_apart():
    sums, outside = account_sums(
        squares(),
        lon=np.array([0.5, 0.6, 2.5, 9.0]),
        lat=np.array([0.5, 0.5, 0.5, 0.5]),
        potential=np.array([10.0, 5.0, 1.0, 100.0]),
        workload=np.array([1.0, 1.0, 2.0, 3.0]),
    )
    assert sums["account_count"].tolist() == [2, 0, 1]
    assert sums["account_potential"].tolist() == [15, 0, 1]
    assert sums["workload_hours"].tolist() == [2, 0, 2]
    assert outside == 1


def test_white_space_takes_the_territory_of_its_nearest_assigned_neighbour():
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    assert fill_white_space(np.array([-1, 1, -1, -1]), edges).tolist() == [1, 1, 1, 1]
    assert fill_white_space(np.array([0, -1, -1, 2]), edges).tolist() == [0, 0, 2, 2]


def test_the_plan_keeps_each_source_code_where_most_of_its_units_stay():
    start = np.array([0, 0, 0, 1, 1, 1])  # EAST, EAST, EAST, WEST, WEST, WEST
    plan = np.array([1, 1, 0, 0, 0, 0])  # the optimizer numbered them the other way round
    assert closest_labels(plan, start, ["EAST", "WEST"]) == ["WEST", "EAST"]


def test_a_reason_names_territories_by_code_and_gives_the_least_deviation_its_proof_allows():
    reason = Violation("balance", "territory 1 is out; every plan is 5.09% off", 1, "BIR74", least_deviation=0.050936)
    assert violation_body(reason, ["EAST", "WEST"]) == {
        "constraint": "balance",
        "detail": "territory WEST is out; every plan is 5.09% off",
        "territory": "WEST",
        "metric": "BIR74",
        "least_deviation_pct": 5.094,
    }
    assert (
        violation_body(Violation("contiguity", "territory 0 is not contiguous", 0), ["EAST"])["least_deviation_pct"]
        is None
    )
