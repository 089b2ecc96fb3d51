import numpy as np
import shapely
from territory_geodata import approximate_zip_areas
from territory_geodata.zip_areas import LABEL


def test_approximate_zip_areas_tile_a_state_and_hold_their_zip(zips, states):
    nc_zips, nc = zips.in_states("NC"), states.take(states.ids == "37")
    areas = approximate_zip_areas(nc_zips, nc)
    assert areas.label == LABEL and "not official ZIP boundaries" in LABEL
    shape = nc.geometries[0]
    assert abs(shapely.union_all(areas.geometries).area - shape.area) / shape.area < 1e-9
    inside = shapely.contains_xy(shape, nc_zips.lon, nc_zips.lat)
    held = shapely.intersects_xy(areas.geometries, nc_zips.lon, nc_zips.lat)
    assert held[inside].all()
    assert np.array_equal(areas.zip, nc_zips.zip)
