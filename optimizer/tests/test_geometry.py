import math

import numpy as np
import shapely
from territory_shared.geometry import (
    border_adjacency,
    choose_equal_area_crs,
    components,
    link_islands,
    mean_polsby_popper,
    polsby_popper,
    to_equal_area,
)


def squares(rows, cols):
    return np.array([shapely.box(c, r, c + 1, r + 1) for r in range(rows) for c in range(cols)], dtype=object)


def test_rook_adjacency_counts_only_borders_of_positive_length():
    adj = border_adjacency(squares(3, 3))
    assert len(adj.edges) == 12
    assert np.allclose(adj.lengths, 1.0)
    assert all(a < b for a, b in adj.edges.tolist())


def test_queen_adjacency_adds_corner_contacts_with_zero_length():
    adj = border_adjacency(squares(3, 3), include_point_contacts=True)
    assert len(adj.edges) == 20
    assert (adj.lengths == 0).sum() == 8


def test_snap_tolerance_finds_borders_digitised_apart():
    a, b = shapely.box(0, 0, 1, 1), shapely.box(1.001, 0, 2, 1)
    assert len(border_adjacency([a, b]).edges) == 0
    assert len(border_adjacency([a, b], snap_tolerance=0.01).edges) == 1


def test_link_islands_connects_each_island_to_its_nearest_unit_and_reports_it():
    geoms = list(squares(2, 2)) + [shapely.box(5, 0, 6, 1), shapely.box(5, 3, 6, 4)]
    edges = border_adjacency(geoms).edges
    linked, links = link_islands(edges, geoms)
    assert components(len(geoms), linked).max() == 0
    assert len(links) == 2
    assert {(lk.unit_a, lk.unit_b) for lk in links} == {(1, 4), (3, 5)} or all(lk.distance > 0 for lk in links)


def test_conus_data_is_projected_to_albers_and_elsewhere_to_a_local_laea():
    assert choose_equal_area_crs((-84, 34, -75, 37)).to_epsg() == 5070
    crs = choose_equal_area_crs((2, 48, 3, 49))
    assert "Lambert Azimuthal Equal Area" in crs.to_wkt()


def test_polsby_popper_of_a_square_and_of_dissolved_territories():
    assert math.isclose(polsby_popper([shapely.box(0, 0, 1, 1)])[0], math.pi / 4)
    geoms = squares(1, 4)
    assert math.isclose(mean_polsby_popper(geoms, [0, 0, 1, 1]), 4 * math.pi * 2 / 36)


def test_projection_gives_square_metres():
    projected, crs = to_equal_area([shapely.box(-80, 35, -79, 36)])
    assert crs.to_epsg() == 5070
    assert 9.0e9 < shapely.area(projected)[0] < 1.1e10
