"""Splitting a county into finer units on the web map: in a draft, select Wake County, split it into the cells of a
finer layer, and see the cells drawn in its place, owned by Wake's territory."""

from __future__ import annotations

import json

import shapely

from .conftest import MapPage, Platform

WAKE = "37183"  # in TRIANGLE


def import_grid(platform: Platform, name: str, bounds: tuple[float, float, float, float], size: float) -> str:
    """Square cells of ``size`` degrees over ``bounds``, imported as a layer; the layer's id."""
    west, south, east, north = bounds
    features, n = [], 0
    y = south
    while y < north:
        x = west
        while x < east:
            n += 1
            features.append(
                {
                    "type": "Feature",
                    "properties": {"id": f"c{n:03d}", "BIR74": 1.0},
                    "geometry": shapely.geometry.mapping(shapely.box(x, y, x + size, y + size)),
                }
            )
            x += size
        y += size
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    job = platform.ok(
        platform.http.post(
            "/geo/v1/layers",
            files={"file": ("grid.geojson", body)},
            data={"name": name, "id_column": "id", "attributes": "BIR74"},
        ),
        202,
    )
    status = platform.ok(platform.http.get(f"/geo/v1/jobs/{job['job_id']}"))
    while status["status"] not in ("succeeded", "failed"):
        status = platform.ok(platform.http.get(f"/geo/v1/jobs/{job['job_id']}"))
    assert status["status"] == "succeeded", status
    return str(status["result"]["layer_id"])


def test_a_county_split_into_finer_cells_shows_them_in_its_territory(map_page: MapPage, platform: Platform):
    page = map_page.page
    wake = platform.ok(
        platform.http.get(f"/geo/v1/layers/{platform.layer_id}/units.geojson?bbox=-78.7,35.75,-78.6,35.8")
    )
    shape = next(shapely.geometry.shape(f["geometry"]) for f in wake["features"] if f["id"] == WAKE)
    grid = import_grid(platform, "Wake grid cells", shape.bounds, 0.1)
    draft = platform.draft("split Wake")
    map_page.open(draft["id"])
    owner = map_page.territory_of(WAKE)  # TRIANGLE in the starting alignment; other tests may have moved it

    point = map_page.unit_point(WAKE)
    page.mouse.click(point["x"], point["y"])
    assert map_page.hook("selection()") == [WAKE]
    page.click("#split-open")
    page.wait_for_selector("#split-form", state="visible")
    page.select_option("#split-layer", grid)
    page.click("#split-confirm")

    page.wait_for_function(
        "(v) => window.territoryMap.ready && window.territoryMap.version > v", arg=draft["version"], timeout=30_000
    )
    alignment = platform.alignment(draft["id"])
    assert alignment["layer_id"] != platform.layer_id
    pieces = [u for u in platform.units(draft["id"]) if u.startswith("grid:")]
    assert len(pieces) >= 20
    # The cells are drawn where Wake was, each owned by Wake's territory, and selected to be seen; Wake itself is gone.
    page.wait_for_function(
        "(ps) => ps.every((p) => window.territoryMap.queryRenderedFeatures('units').includes(p))", arg=pieces
    )
    assert WAKE not in map_page.hook("queryRenderedFeatures('units')")
    # the draft's memberships on its new layer arrive after its version: wait for the map to hold them all
    page.wait_for_function(
        "(ps) => ps.every((p) => window.territoryMap.territoryOf(p) !== 'white space')", arg=pieces, timeout=30_000
    )
    assert {map_page.territory_of(p) for p in pieces} == {owner}
    assert map_page.hook("selection()") == sorted(pieces)
    assert "finer units" in page.locator("#messages").text_content()
    map_page.screenshot("split-units")
