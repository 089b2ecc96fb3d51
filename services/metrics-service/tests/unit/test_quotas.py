"""The quota arithmetic: a goal split by a blend of potential and revenue, rolled up, prorated over segments."""

from __future__ import annotations

from datetime import date

import pytest
from metrics_service.domain.quotas import (
    NothingToAllocate,
    PlanRefused,
    RepRef,
    Segment,
    TerritoryFigures,
    allocate,
    check_adjustments,
    checked_plan,
    frozen_figures,
    period_quotas,
    thawed_figures,
)

# EAST holds T1 and T2; T3 stands alone. Potential 1000 / 3000 / 1000 (5000), revenue 400k / 200k / 400k (1M).
FIGURES = [
    TerritoryFigures("EAST", "East", None, False, 4000.0, 600_000.0),
    TerritoryFigures("T1", "Raleigh", "EAST", True, 1000.0, 400_000.0),
    TerritoryFigures("T2", "Charlotte", "EAST", True, 3000.0, 200_000.0),
    TerritoryFigures("T3", "Asheville", None, True, 1000.0, 400_000.0),
]


def plan(**kw):  # type: ignore[no-untyped-def]
    given = {
        "goal": 1_000_000.0,
        "starts_on": date(2027, 1, 1),
        "ends_on": date(2027, 1, 30),
        "method": "blend",
        "potential_weight": 0.4,
        "adjustments": {"T1": 20_000.0, "T3": -20_000.0},
    } | kw
    return checked_plan(**given)


def test_a_blend_splits_the_goal_by_the_weighted_shares_and_parents_sum_their_children():
    a = allocate(plan(), FIGURES).territories
    # T1: 0.4 x 1000/5000 + 0.6 x 400k/1M = 0.08 + 0.24 = 0.32 -> 320,000 + 20,000 = 340,000
    # T2: 0.4 x 3000/5000 + 0.6 x 200k/1M = 0.24 + 0.12 = 0.36 -> 360,000
    # T3: 0.4 x 1000/5000 + 0.6 x 400k/1M = 0.32 -> 320,000 - 20,000 = 300,000
    assert a["T1"].share == pytest.approx(0.32) and a["T1"].quota == pytest.approx(340_000)
    assert a["T2"].share == pytest.approx(0.36) and a["T2"].quota == pytest.approx(360_000)
    assert a["T3"].base_quota == pytest.approx(320_000) and a["T3"].quota == pytest.approx(300_000)
    assert a["EAST"].quota == pytest.approx(700_000) and a["EAST"].adjustment == pytest.approx(20_000)
    assert list(a) == ["EAST", "T1", "T2", "T3"]


def test_potential_alone_and_revenue_alone_are_the_two_ends_of_the_blend():
    by_potential = allocate(plan(method="potential", potential_weight=None, adjustments={}), FIGURES).territories
    assert [by_potential[c].quota for c in ("T1", "T2", "T3")] == pytest.approx([200_000, 600_000, 200_000])
    by_revenue = allocate(plan(method="revenue", potential_weight=0, adjustments={}), FIGURES).territories
    assert [by_revenue[c].quota for c in ("T1", "T2", "T3")] == pytest.approx([400_000, 200_000, 400_000])


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"adjustments": {"T1": 20_000.0, "T2": -10_000.0}}, "adjustments"),
        ({"ends_on": date(2026, 12, 31)}, "ends_on"),
        ({"potential_weight": None}, "potential_weight"),
        ({"method": "potential", "potential_weight": 0.5}, "potential_weight"),
        ({"goal": 0.0}, "goal"),
    ],
)
def test_a_plan_that_cannot_hold_is_refused_naming_the_field(kw, field):
    with pytest.raises(PlanRefused) as refused:
        plan(**kw)
    assert refused.value.field == field


def test_adjustments_off_by_an_amount_say_by_how_much():
    with pytest.raises(PlanRefused) as refused:
        plan(adjustments={"T1": 20_000.0, "T2": -10_000.0})
    assert refused.value.extra["off_by"] == pytest.approx(10_000)


def test_adjustments_name_leaf_territories_and_leave_no_quota_negative():
    with pytest.raises(PlanRefused, match="EAST"):
        check_adjustments(plan(adjustments={"EAST": 1.0, "T3": -1.0}), FIGURES)
    with pytest.raises(PlanRefused, match="negative quota in T3"):
        check_adjustments(plan(adjustments={"T1": 400_000.0, "T3": -400_000.0}), FIGURES)
    check_adjustments(plan(), FIGURES)


def test_an_alignment_without_one_of_the_adjusted_leaves_takes_none_of_the_adjustments():
    without_t3 = [f for f in FIGURES if f.code != "T3"]
    a = allocate(plan(), without_t3)
    assert a.unapplied == {"T1": 20_000.0, "T3": -20_000.0}
    assert sum(t.quota for t in a.territories.values() if t.figures.is_leaf) == pytest.approx(1_000_000)


def test_nothing_to_split_by_is_told():
    empty = [TerritoryFigures("T1", "t", None, True, 0.0, 0.0)]
    with pytest.raises(NothingToAllocate):
        allocate(plan(adjustments={}), empty)


def test_quotas_are_prorated_by_days_between_segments_and_reps_hold_their_primary_leaves():
    p = plan()
    before = allocate(p, FIGURES)
    # Charlotte's county moves to T1: T1 potential 4000, revenue 600k; T2 holds nothing.
    after = allocate(
        p,
        [
            TerritoryFigures("EAST", "East", None, False, 4000.0, 600_000.0),
            TerritoryFigures("T1", "Raleigh", "EAST", True, 4000.0, 600_000.0),
            TerritoryFigures("T2", "Charlotte", "EAST", True, 0.0, 0.0),
            TerritoryFigures("T3", "Asheville", None, True, 1000.0, 400_000.0),
        ],
    )
    r1, r2 = RepRef("r1", "R-1"), RepRef("r2", "R-2")
    old_reps = {"T1": r1, "T2": r2, "T3": r2}
    new_reps = {"T1": r1, "T3": r2}  # T2 has no primary rep any more
    segments = [
        Segment("a", date(2027, 1, 1), date(2027, 1, 10), before, old_reps, "closed"),
        Segment("b", date(2027, 1, 11), date(2027, 1, 30), after, new_reps, "open"),
    ]
    q = period_quotas(p, segments)
    rows = {t.code: t for t in q.territories}
    # T1 after: 0.4 x 0.8 + 0.6 x 0.6 = 0.68 -> 680,000 + 20,000 = 700,000.
    # Period: 10 of 30 days at 340,000, 20 of 30 at 700,000 = 113,333.33 + 466,666.67 = 580,000.
    assert rows["T1"].allocation == pytest.approx(700_000)
    assert rows["T1"].quota == pytest.approx(580_000)
    assert rows["T2"].quota == pytest.approx(120_000)  # 360,000 x 10/30, nothing after
    assert rows["T3"].quota == pytest.approx(300_000)  # 300,000 all along
    assert rows["EAST"].quota == pytest.approx(700_000)
    assert sum(t.quota for t in q.territories if t.parent_code is None) == pytest.approx(1_000_000)
    reps = {r.rep_id: r for r in q.reps}
    assert reps["r1"].quota == pytest.approx(580_000) and reps["r1"].territory_codes == ["T1"]
    # r2: T2 and T3 for 10 days (660,000 x 10/30 = 220,000), then T3 for 20 (300,000 x 20/30 = 200,000).
    assert reps["r2"].quota == pytest.approx(420_000) and reps["r2"].allocation == pytest.approx(300_000)
    assert q.unassigned == pytest.approx(0)
    assert rows["T1"].attainment == pytest.approx(600_000 / 580_000)


def test_a_territory_of_an_earlier_segment_only_keeps_its_part_of_the_period():
    p = plan(adjustments={})
    before = allocate(p, FIGURES)
    after = allocate(p, [f for f in FIGURES if f.code != "T2"])
    q = period_quotas(
        p,
        [
            Segment("a", date(2027, 1, 1), date(2027, 1, 15), before, {}, "closed"),
            Segment("b", date(2027, 1, 16), date(2027, 1, 30), after, {}, "open"),
        ],
    )
    rows = {t.code: t for t in q.territories}
    assert not rows["T2"].in_alignment and rows["T2"].parent_code == "EAST"
    assert rows["T2"].quota == pytest.approx(360_000 / 2)
    assert rows["EAST"].quota == pytest.approx(rows["T1"].quota + rows["T2"].quota)
    assert q.unassigned == pytest.approx(1_000_000)


def test_frozen_figures_come_back_as_they_were():
    primary = {"T1": RepRef("r1", "R-1")}
    assert thawed_figures(frozen_figures(FIGURES, primary)) == (FIGURES, primary)
