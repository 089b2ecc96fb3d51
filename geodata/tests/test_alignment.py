import numpy as np
import pytest
from territory_geodata import starting_alignment


@pytest.fixture(scope="module")
def alignment(counties):
    return starting_alignment(counties, n_territories=100)


def test_every_county_is_in_one_territory_or_in_the_market_gap(alignment, counties):
    assert len(alignment.territories) == 100
    together = np.concatenate([alignment.unit_ids, alignment.unassigned])
    assert sorted(together.tolist()) == counties.ids.tolist()
    assert set(alignment.territory_codes.tolist()) == {t.code for t in alignment.territories}


def test_the_market_gap_is_around_raleigh_and_austin(alignment):
    assert {"37183", "48453"} <= set(alignment.unassigned.tolist())
    assert 2 < len(alignment.unassigned) < 40


def test_the_starting_alignment_is_deliberately_unbalanced(alignment, counties):
    potential = dict(zip(counties.ids.tolist(), counties.potential.tolist(), strict=True))
    totals: dict[str, float] = {}
    for unit, code in zip(alignment.unit_ids.tolist(), alignment.territory_codes.tolist(), strict=True):
        totals[code] = totals.get(code, 0) + potential[unit]
    values = np.array(list(totals.values()))
    assert values.max() / values.mean() > 2 and values.min() / values.mean() < 0.5


def test_territories_belong_to_regions_and_small_states_are_grouped(alignment):
    regions = {code for code, _ in alignment.regions}
    assert regions == {"R-NE", "R-MW", "R-S", "R-W"}
    assert all(t.region_code in regions for t in alignment.territories)
    assert any(len(t.states) > 1 for t in alignment.territories)


def test_a_single_state_can_be_aligned(counties):
    nc = starting_alignment(counties.in_states("37"), n_territories=10)
    assert len(nc.territories) == 10 and "37183" in nc.unassigned.tolist()
