import numpy as np
import pytest
import shapely
from territory_geodata import h3_layer


@pytest.fixture(scope="module")
def north_carolina(states):
    return states.geometries[states.ids == "37"][0]


@pytest.mark.parametrize("resolution", [5, 6])
def test_an_h3_layer_covers_north_carolina(north_carolina, zips, resolution):
    nc_zips = zips.in_states("NC")
    layer = h3_layer(north_carolina, resolution, nc_zips)
    covered = shapely.union_all(layer.geometries)
    assert north_carolina.difference(covered).area / north_carolina.area < 1e-9
    assert len(np.unique(layer.cells)) == len(layer)
    assert shapely.is_valid(layer.geometries).all()
    inside = shapely.contains_xy(north_carolina, nc_zips.lon, nc_zips.lat)
    assert layer.population.sum() == nc_zips.population[inside].sum()


def test_centre_containment_gives_the_usual_h3_fill(north_carolina):
    assert len(h3_layer(north_carolina, 6, contain="center")) == 3956
