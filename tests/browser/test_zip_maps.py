"""The web map on a ZIP-area layer drawn from vector tiles: shapes, shared borders, outlines, a box move."""

from __future__ import annotations

import statistics
import uuid
from typing import Any

import pytest

from .conftest import TILES_DRAWN, VIEWPORT, MapPage, Platform
from .zip_areas import by_longitude, import_zip_layer, publish_alignment, unit_centres


@pytest.fixture(scope="module")
def carolinas(server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Platform, str, dict[str, Any]]:
    """The ZIP areas of North and South Carolina in three territories, west to east; a draft copy of them."""
    p = Platform(server, f"zip-{uuid.uuid4().hex[:8]}")
    layer_id, _ = import_zip_layer(p.http, tmp_path_factory.mktemp("zips"), ["NC", "SC"])
    publish_alignment(p.http, layer_id, by_longitude(p.http, layer_id, ["WEST", "MIDDLE", "EAST"]))
    return p, layer_id, unit_centres(p.http, layer_id)


def open_tiled(browser: Any, platform: Platform, alignment_id: str) -> MapPage:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(30_000)
    return MapPage(page, platform).open_tiled(alignment_id)


def view(map_page: MapPage, lon: float, lat: float, zoom: int) -> None:
    map_page.page.evaluate("([lat, lon, z]) => { window.territoryMap.map.setView([lat, lon], z, {animate: false}); }",
                           [lat, lon, zoom])  # fmt: skip
    map_page.page.wait_for_timeout(300)
    map_page.page.wait_for_function(TILES_DRAWN)


def test_zip_areas_are_drawn_from_tiles_with_shared_borders_and_territory_outlines(browser, carolinas):
    platform, _, centres = carolinas
    map_page = open_tiled(browser, platform, platform.draft("tiles")["id"])
    try:
        tiles = map_page.hook("tiles()")
        assert tiles["drawn"] >= 0.95 * len(centres), (tiles["drawn"], len(centres))
        assert len(map_page.hook("queryRenderedFeatures(...args)", "units")) > 0.9 * len(centres)
        assert tiles["outlineSegments"] > 0 and tiles["pairs"] > 0
        shot = map_page.screenshot("zip-areas-carolinas")
        assert map_page.distinct_colours(shot) > 20

        # Deep inside North Carolina, zoomed in: the units of the tile at the centre cover it whole. Shared borders
        # are shared vertices, so the fills leave no sliver (a gap would cover less) and no overlap (more).
        for zoom in (9, 11, 13):
            view(map_page, -79.8, 35.7, zoom)
            key = map_page.page.evaluate(
                """(z) => { const m = window.territoryMap.map; const p = m.project(m.getCenter(), z);
                            return `${Math.floor(p.x / 256)}:${Math.floor(p.y / 256)}:${z}`; }""",
                zoom,
            )
            coverage = {c["tile"]: c for c in map_page.hook("tiles()")["coverage"]}
            assert coverage[key]["covered"] == coverage[key]["clip"], (zoom, coverage[key])
            map_page.screenshot(f"zip-areas-zoom-{zoom}")
    finally:
        map_page.page.context.close()
    assert not map_page.errors, map_page.errors


def test_a_box_selection_of_zip_areas_moves_recolours_and_persists(browser, carolinas):
    platform, _, centres = carolinas
    draft = platform.draft("box move")
    before = platform.units(draft["id"])
    middle = [u for u, t in before.items() if t == "MIDDLE"]
    lon = statistics.median(centres[u][0] for u in middle)
    lat = statistics.median(centres[u][1] for u in middle)
    map_page = open_tiled(browser, platform, draft["id"])
    page = map_page.page
    try:
        view(map_page, lon, lat, 8)
        # A box of about 0.8 by 0.6 degrees around the middle territory's centre, in screen pixels.
        box = [[lat + 0.3, lon - 0.4], [lat - 0.3, lon + 0.4]]
        a, b = page.evaluate(
            """(box) => { const m = window.territoryMap.map; const r = m.getContainer().getBoundingClientRect();
                          return box.map(([la, lo]) => { const p = m.latLngToContainerPoint([la, lo]);
                                                         return {x: r.left + p.x, y: r.top + p.y}; }); }""",
            box,
        )
        inside = {u for u, (x, y) in centres.items() if lon - 0.39 < x < lon + 0.39 and lat - 0.29 < y < lat + 0.29}
        around = {u for u, (x, y) in centres.items() if lon - 0.41 < x < lon + 0.41 and lat - 0.31 < y < lat + 0.31}
        page.get_by_role("button", name="Box").click()
        map_page.drag_box(a, b)
        selected = set(map_page.hook("selection()"))
        assert inside <= selected <= around and len(selected) >= 10, (len(inside), len(selected))
        moving = sorted(u for u in selected if before[u] != "EAST")
        probe = next(u for u in moving if before[u] == "MIDDLE")
        page.get_by_role("button", name="Pan").click()
        outlines_before = map_page.hook("tiles()")["outlineSegments"]
        shot_before = map_page.screenshot("zip-areas-box-selected")

        page.get_by_label("Move to").select_option(label="EAST")
        page.get_by_role("button", name="Move selected").click()
        map_page.wait_territory(probe, "EAST")
        page.wait_for_function(TILES_DRAWN)
        shot_after = map_page.screenshot("zip-areas-box-moved")

        # Persisted: geo-service's own alignment data has every selected unit in EAST, and nothing else moved.
        after = platform.units(draft["id"])
        assert {u for u in after if after[u] != before[u]} == set(moving)
        assert all(after[u] == "EAST" for u in selected)
        # Recoloured and re-outlined from the tiles in memory: the probe's pixel changed, the borders moved.
        point = map_page.unit_point(probe)
        assert pixel(map_page, shot_before, point) != pixel(map_page, shot_after, point)
        assert map_page.hook("tiles()")["outlineSegments"] != outlines_before
    finally:
        page.context.close()
    assert not map_page.errors, map_page.errors


def pixel(map_page: MapPage, png: Any, point: dict[str, float]) -> list[int]:
    import base64

    return map_page.page.evaluate(
        """async ([data, x, y]) => {
            const img = new Image(); img.src = 'data:image/png;base64,' + data; await img.decode();
            const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
            const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
            return [...ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3)];
        }""",
        [base64.b64encode(png.read_bytes()).decode(), point["x"], point["y"]],
    )
