"""Vector tiles of a layer: North Carolina's counties cut into Mapbox Vector Tiles, decoded and checked."""

from __future__ import annotations

import math
import time

import mapbox_vector_tile
import pytest
import shapely
from geo_service.domain.tiles import BUFFER, EXTENT, TileAddress
from geo_service.tile_cache import WARM_ZOOMS

from tests.support.auth import auth_headers

from .boundaries import WAKE, WAKE_NEIGHBOURS
from .conftest import nc_layer

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def nc(client, tmp_path_factory):
    """A tenant with North Carolina's counties, and each county's centre."""
    headers = auth_headers("tiles-nc")
    layer = nc_layer(client, headers, tmp_path_factory.mktemp("nc"))
    units = client.get(f"/v1/layers/{layer}/units?limit=200", headers=headers).json()["items"]
    return headers, layer, {u["unit_id"]: tuple(u["centroid"]) for u in units}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    side = 1 << z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * side
    return z, int((lon + 180) / 360 * side), int(y)


def fetch(client, headers, layer, z, x, y):  # type: ignore[no-untyped-def]
    return client.get(f"/v1/layers/{layer}/tiles/{z}/{x}/{y}.mvt", headers=headers)


def shapes(data: bytes) -> dict[str, shapely.Geometry]:
    """unit id -> shape in the tile's grid (y down), from the decoded tile."""
    decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    assert list(decoded) == ["units"] and decoded["units"]["extent"] == EXTENT
    out = {}
    for f in decoded["units"]["features"]:
        assert set(f["properties"]) == {"unit_id"}
        out[f["properties"]["unit_id"]] = shapely.geometry.shape(f["geometry"])
    return out


def test_a_tile_holds_the_units_it_reaches_by_id_and_nothing_else(client, nc):
    headers, layer, centres = nc
    address = tile_of(*centres[WAKE], 7)
    r = fetch(client, headers, layer, *address)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "immutable" in r.headers["cache-control"] and r.headers["etag"]
    units = shapes(r.content)
    west, south, east, north = TileAddress(*address).lonlat_bounds(buffer=0)
    inside = {u for u, (lon, lat) in centres.items() if west < lon < east and south < lat < north}
    assert WAKE in inside and inside <= set(units) <= set(centres)
    # The counties far west of the tile (it ends about 78.75 W at zoom 7) are not in it.
    assert not {u for u, (lon, _) in centres.items() if lon < -81} & set(units)


def test_shapes_are_clipped_to_the_tile_and_its_buffer(client, nc):
    headers, layer, centres = nc
    z, x, y = tile_of(*centres[WAKE], 11)
    units = shapes(fetch(client, headers, layer, z, x, y).content)
    assert WAKE in units
    for shape in units.values():
        minx, miny, maxx, maxy = shape.bounds
        assert -BUFFER <= minx and -BUFFER <= miny and maxx <= EXTENT + BUFFER and maxy <= EXTENT + BUFFER
    # Wake is far bigger than a zoom-11 tile: its clipped shape reaches past every edge of the tile.
    assert shapely.box(0, 0, EXTENT, EXTENT).intersection(units[WAKE]).area > 0.2 * EXTENT**2


def test_neighbours_share_their_borders_with_no_gap_and_no_overlap_at_every_zoom(client, nc):
    headers, layer, centres = nc
    view = shapely.box(0, 0, EXTENT, EXTENT)
    for zoom in (6, 8, 9, 10, 12):
        units = shapes(fetch(client, headers, layer, *tile_of(*centres[WAKE], zoom)).content)
        pieces = [view.intersection(s) for s in units.values()]
        covered = shapely.union_all(pieces)
        overlap = sum(p.area for p in pieces) - covered.area
        assert overlap <= 1e-6 * EXTENT**2, (zoom, overlap)
        # No sliver between neighbours: what they cover together has no hole in it.
        assert all(len(part.interiors) == 0 for part in shapely.get_parts(covered)), zoom
        # Around Raleigh, well inside the state: the counties cover the whole tile.
        if zoom >= 10:
            assert covered.area == pytest.approx(EXTENT**2, rel=1e-9), zoom
        wake = set(shapely.get_coordinates(units[WAKE]).round().astype(int).view("i8,i8").ravel().tolist())
        for n in WAKE_NEIGHBOURS & set(units):
            theirs = set(shapely.get_coordinates(units[n]).round().astype(int).view("i8,i8").ravel().tolist())
            assert len(wake & theirs) >= 2, (zoom, n)


def test_a_tile_no_unit_reaches_answers_204(client, nc):
    headers, layer, _ = nc
    r = fetch(client, headers, layer, *tile_of(-140.0, 30.0, 6))
    assert r.status_code == 204 and r.content == b""


@pytest.mark.parametrize(
    ("z", "x", "y", "field"), [(23, 0, 0, "z"), (-1, 0, 0, "z"), (3, 8, 0, "x"), (3, -1, 0, "x"), (3, 0, 8, "y")]
)
def test_a_tile_that_does_not_exist_is_refused_naming_the_field(client, nc, z, x, y, field):
    headers, layer, _ = nc
    r = fetch(client, headers, layer, z, x, y)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


def test_a_tile_address_that_is_not_a_number_is_refused(client, nc):
    headers, layer, _ = nc
    r = client.get(f"/v1/layers/{layer}/tiles/3/a/0.mvt", headers=headers)
    assert r.status_code == 422 and "x" in r.text


def test_another_tenant_gets_no_tile_of_the_layer_even_once_it_is_cached(client, nc):
    headers, layer, centres = nc
    address = tile_of(*centres[WAKE], 8)
    assert fetch(client, headers, layer, *address).status_code == 200
    assert fetch(client, auth_headers("tiles-other"), layer, *address).status_code == 404
    assert fetch(client, headers, "no-such-layer", *address).status_code == 404


def test_a_tile_already_held_is_not_sent_again(client, nc):
    headers, layer, centres = nc
    address = tile_of(*centres[WAKE], 9)
    first = fetch(client, headers, layer, *address)
    again = client.get(
        f"/v1/layers/{layer}/tiles/{'/'.join(map(str, address))}.mvt",
        headers={**headers, "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""


def _held_tiles(client, layer: str) -> set[tuple[int, int, int]]:
    cache = client.app.state.tile_cache
    with cache._guard:
        return {(z, x, y) for (lid, z, x, y) in cache._tiles if lid == layer}


def test_the_low_zoom_tiles_are_cut_ahead_once_a_layer_is_drawn_and_match_a_fresh_cut(client, nc, tmp_path):
    headers = auth_headers("tiles-warm")
    layer = nc_layer(client, headers, tmp_path)
    fetch(client, headers, layer, *tile_of(-79.0, 35.5, 9))
    # North Carolina at zoom 5 spans tiles x 8-9, y 12; every zoom of the warm-up covers the state's bbox.
    wanted = {(3, 2, 3), (4, 4, 6), (5, 8, 12), (5, 9, 12)}
    deadline = time.monotonic() + 60
    while not wanted <= _held_tiles(client, layer) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wanted <= _held_tiles(client, layer)
    assert not any(z > max(WARM_ZOOMS) and z != 9 for z, _, _ in _held_tiles(client, layer))
    warmed = fetch(client, headers, layer, 5, 9, 12)
    assert warmed.status_code == 200
    assert set(shapes(warmed.content)) >= {WAKE, *WAKE_NEIGHBOURS}


def test_deleting_a_layer_forgets_its_tiles_and_adjacency(client, nc, tmp_path):
    headers = auth_headers("tiles-delete")
    layer = nc_layer(client, headers, tmp_path)
    fetch(client, headers, layer, *tile_of(-78.6, 35.8, 7))
    edges = client.get(f"/v1/layers/{layer}/adjacency", headers=headers).json()["edges"]
    assert [WAKE, sorted(WAKE_NEIGHBOURS)[0]] in edges or [sorted(WAKE_NEIGHBOURS)[0], WAKE] in edges
    assert _held_tiles(client, layer)
    assert client.delete(f"/v1/layers/{layer}", headers=headers).status_code == 204
    assert not _held_tiles(client, layer)
    assert not [k for k in client.app.state.tile_cache._blobs if k[0] == layer]
    assert fetch(client, headers, layer, *tile_of(-78.6, 35.8, 7)).status_code == 404
    assert client.get(f"/v1/layers/{layer}/adjacency", headers=headers).status_code == 404
