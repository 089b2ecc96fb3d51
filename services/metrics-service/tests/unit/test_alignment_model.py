"""The alignment model: incremental moves equal a rebuild; shapes, hierarchy, rosters and travel."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from metrics_service.domain.accounts import account_sums
from metrics_service.domain.alignment import AlignmentModel, TerritoryNode, UnknownUnits
from metrics_service.domain.analysis import compare, market_gap
from metrics_service.domain.layer import LayerData
from metrics_service.domain.travel import Rep, haversine_km
from territory_shared.geometry import to_equal_area


def grid_layer(n: int = 4) -> LayerData:
    """n x n unit squares of 0.1 degree near Raleigh; attribute pop = 10 * row + col."""
    ids, attrs, geoms = [], [], []
    for r in range(n):
        for c in range(n):
            ids.append(f"u{r}{c}")
            attrs.append({"pop": float(10 * r + c), "potential": 1.0})
            geoms.append(shapely.box(-79 + 0.1 * c, 35 + 0.1 * r, -79 + 0.1 * (c + 1), 35 + 0.1 * (r + 1)))
    return LayerData.build("grid", ids, attrs, geoms, ["pop", "potential"])


TERRITORIES = [
    TerritoryNode("R", "R", "Region"),
    TerritoryNode("A", "A", "A", "R"),
    TerritoryNode("B", "B", "B", "R"),
]


def halves(layer: LayerData) -> dict[str, str | None]:
    return {u: ("A" if int(u[2]) < 2 else "B") for u in layer.unit_ids}


def test_moves_update_sums_incrementally_and_equal_a_rebuild():
    layer = grid_layer()
    model = AlignmentModel.build("x", layer, halves(layer), TERRITORIES)
    touched = model.move(["u00", "u10"], "B")
    model.move(["u33"], None)
    assert touched == {"A", "B"}
    rebuilt = AlignmentModel.build("x", layer, model.membership(), TERRITORIES)
    a, b = model.territory_metrics(), rebuilt.territory_metrics()
    assert [(r.code, r.values, r.unit_count, r.shape) for r in a] == [
        (r.code, r.values, r.unit_count, r.shape) for r in b
    ]
    rows = {r.code: r for r in a}
    assert rows["R"].values["pop"] == rows["A"].values["pop"] + rows["B"].values["pop"]
    assert rows["R"].unit_count == 15 and len(model.white_space()) == 1


def test_a_what_if_on_a_copy_leaves_the_model_alone():
    layer = grid_layer()
    model = AlignmentModel.build("x", layer, halves(layer), TERRITORIES)
    before = {r.code: r.values["pop"] for r in model.territory_metrics()}
    scenario = model.copy()
    scenario.move(["u00"], "B")
    assert {r.code: r.values["pop"] for r in model.territory_metrics()} == before
    assert {r.code: r.values["pop"] for r in scenario.territory_metrics()}["B"] == before["B"] + 0.0
    with pytest.raises(UnknownUnits):
        scenario.move(["nope"], "A")


def test_shapes_area_compactness_and_parts():
    layer = grid_layer()
    model = AlignmentModel.build("x", layer, halves(layer), TERRITORIES)
    rows = {r.code: r for r in model.territory_metrics()}
    # Two columns of four cells: one rectangle, measured in the equal-area projection.
    rect, _ = to_equal_area([shapely.box(-79, 35, -78.8, 35.4)])
    assert rows["A"].shape.parts == 1
    assert rows["A"].shape.area_km2 == pytest.approx(rect[0].area / 1e6, rel=1e-6)
    assert rows["A"].shape.polsby_popper == pytest.approx(4 * np.pi * rect[0].area / rect[0].length ** 2, rel=1e-6)
    model.move(["u00", "u33"], "A")  # u33 is detached from the rest of A
    rows = {r.code: r for r in model.territory_metrics()}
    assert rows["A"].shape.parts == 2
    assert rows["A"].shape.area_km2 == pytest.approx(rows["R"].shape.area_km2 * 9 / 16, rel=0.01)


def test_rosters_give_capacity_utilization_and_travel():
    layer = grid_layer()
    lon = np.array([-78.95, -78.95, -78.65])
    lat = np.array([35.05, 35.05, 35.35])
    names, sums, outside = account_sums(
        layer, lon, lat, {"potential": np.array([100.0, 300.0, 50.0]), "workload_hours": np.array([10.0, 20.0, 5.0])}
    )
    assert outside == 0
    layer = layer.with_sums(names, sums)
    model = AlignmentModel.build("x", layer, halves(layer), TERRITORIES)
    model.rosters = {"A": [Rep("r1", -78.95, 35.05, 60.0)], "B": [Rep("r2", -79.0, 35.0, 100.0)]}
    rows = {r.code: r for r in model.territory_metrics()}
    assert rows["A"].values["account_count"] == 2 and rows["A"].values["account_potential"] == 400
    assert rows["A"].utilization == pytest.approx(30 / 60)
    assert rows["B"].reps == 1 and rows["R"].reps == 2 and rows["R"].capacity_hours == 160
    # B's one account sits in unit u33 (centroid -78.65, 35.35); its rep lives at -79, 35.
    expected = float(haversine_km(np.array(-79.0), np.array(35.0), np.array(-78.65), np.array(35.35)))
    assert rows["B"].travel_mean_km == pytest.approx(expected)
    assert rows["B"].travel_max_km == pytest.approx(expected)
    gap = market_gap(model, model.territory_metrics(), "workload_hours", 0.1)
    assert gap["basis"] == "utilization"
    # Utilization 0.5 and 0.05 are both below the band around 1.0; the emptier one first.
    assert [t["code"] for t in gap["over_served"]] == ["B", "A"]


def test_disruption_counts_accounts_and_potential_that_change_territory():
    layer = grid_layer()
    names, sums, _ = account_sums(
        layer, np.array([-78.95, -78.65]), np.array([35.05, 35.35]), {"potential": np.array([100.0, 300.0])}
    )
    layer = layer.with_sums(names, sums)
    a = AlignmentModel.build("a", layer, halves(layer), TERRITORIES)
    b = a.copy()
    b.move(["u33"], "A")
    d = compare(a, b)["disruption"]
    assert d["units_changed"] == 1 and d["unit_share"] == pytest.approx(1 / 16)
    assert d["account_share"] == pytest.approx(0.5) and d["potential_share"] == pytest.approx(0.75)
