"""Vector tiles of a layer: North Carolina's counties cut into Mapbox Vector Tiles, decoded and checked."""

from __future__ import annotations

import json
import math
import time

import mapbox_vector_tile
import pytest
import shapely
from geo_service.db.unit_of_work import UnitOfWork
from geo_service.domain.tiles import BUFFER, EXTENT, TileAddress
from geo_service.layer_backfill import fill_in_layers
from geo_service.tile_cache import STORED_BY_IMPORT, STORED_ZOOM
from sqlalchemy import text

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


def _stored_through(client, headers, layer: str) -> int | None:
    deadline = time.monotonic() + 60
    while (zoom := client.get(f"/v1/layers/{layer}", headers=headers).json()["tiles_zoom"]) is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return zoom


def test_a_layers_tiles_are_stored_once_one_is_asked_for_and_served_as_cut(client, nc, tmp_path):
    headers = auth_headers("tiles-stored")
    layer = nc_layer(client, headers, tmp_path)
    assert client.get(f"/v1/layers/{layer}", headers=headers).json()["tiles_zoom"] is None
    first = fetch(client, headers, layer, *tile_of(-79.0, 35.5, 12))
    assert first.status_code == 200
    # Every tile through STORED_ZOOM is cut once, in the background, and stored.
    assert _stored_through(client, headers, layer) == STORED_ZOOM
    cache = client.app.state.tile_cache
    cut_again = {
        (z, x, y): cache._layers[layer].tile(TileAddress(z, x, y))
        for z, x, y in [(3, 2, 3), (5, 8, 12), (5, 9, 12), tile_of(-78.6, 35.8, 9), tile_of(-84.0, 35.2, 9)]
    }
    # A fresh process: nothing in memory. Stored tiles come from the database, without loading the shapes.
    cache.forget_layer(layer)
    for (z, x, y), expected in cut_again.items():
        served = fetch(client, headers, layer, z, x, y)
        assert served.status_code == 200 and served.content == expected, (z, x, y)
    assert set(shapes(fetch(client, headers, layer, 5, 9, 12).content)) >= {WAKE, *WAKE_NEIGHBOURS}
    # A tile of a stored zoom that holds no unit is answered from what is stored, too.
    assert fetch(client, headers, layer, *tile_of(-140.0, 30.0, 6)).status_code == 204
    assert layer not in cache._layers
    # Deeper tiles are cut on demand, as before.
    deep = fetch(client, headers, layer, *tile_of(-78.6, 35.8, STORED_ZOOM + 2))
    assert deep.status_code == 200 and WAKE in shapes(deep.content)


def test_a_big_layer_has_its_tiles_stored_by_its_import(client, tmp_path):
    headers = auth_headers("tiles-big")
    # A grid of 72 x 70 small squares over Kansas: more units than a map draws as GeoJSON.
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"c{i:02d}{j:02d}"},
            "geometry": shapely.geometry.mapping(shapely.box(-101 + i * 0.1, 37 + j * 0.05, -100.9 + i * 0.1,
                                                             37.05 + j * 0.05)),
        }
        for i in range(72)
        for j in range(70)
    ]  # fmt: skip
    assert len(features) > STORED_BY_IMPORT
    path = tmp_path / "grid.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    r = client.post(
        "/v1/layers",
        headers=headers,
        files={"file": ("grid.geojson", path.read_bytes())},
        data={"name": "grid", "id_column": "id"},
    )
    assert r.status_code == 202, r.text
    job_url = r.headers["location"]
    stages = set()
    deadline = time.monotonic() + 120
    while (job := client.get(job_url, headers=headers).json())["status"] not in ("succeeded", "failed"):
        stages.add(job.get("stage"))
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    layer = job["result"]["layer_id"]
    # Ready when the import says it is done: no tile is cut on the map's first view.
    assert client.get(f"/v1/layers/{layer}", headers=headers).json()["tiles_zoom"] == STORED_ZOOM
    client.app.state.tile_cache.forget_layer(layer)
    z, x, y = tile_of(-99.0, 38.0, 7)
    assert {f"c{i:02d}{j:02d}" for i in (19, 20) for j in (19, 20)} <= set(shapes(fetch(client, headers, layer, z, x,
                                                                                        y).content))  # fmt: skip
    assert layer not in client.app.state.tile_cache._layers

    # The same layer as stored before frames and tiles were kept: the service fills them in after it starts.
    runtime = client.app.state.runtime

    def sessions() -> UnitOfWork:
        return UnitOfWork(runtime.sessions, runtime.outbox_written)

    async def forget_frame_and_tiles() -> None:
        async with sessions() as uow:
            await uow.session.execute(
                text("UPDATE layers SET frame = NULL, tiles_zoom = NULL WHERE id = :l"), {"l": layer}
            )
            await uow.session.execute(text("DELETE FROM layer_tiles WHERE layer_id = :l"), {"l": layer})
            await uow.commit()

    before = client.get(f"/v1/layers/{layer}", headers=headers).json()
    client.portal.call(forget_frame_and_tiles)
    cache = client.app.state.tile_cache
    cache.forget_layer(layer)
    assert client.get(f"/v1/layers/{layer}", headers=headers).json()["tiles_zoom"] is None
    client.portal.call(fill_in_layers, sessions, cache)
    after = client.get(f"/v1/layers/{layer}", headers=headers).json()
    assert after["tiles_zoom"] == STORED_ZOOM and after["frame"] == before["frame"]
    cache.forget_layer(layer)
    assert {f"c{i:02d}{j:02d}" for i in (19, 20) for j in (19, 20)} <= set(shapes(fetch(client, headers, layer, z, x,
                                                                                        y).content))  # fmt: skip
    assert layer not in cache._layers


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
