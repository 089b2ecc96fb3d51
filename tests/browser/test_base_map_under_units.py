"""The base map under the units, as a base map is: city names and dots in a pane below the units (GeoJSON and tiles),
read through the units' light fill, taking no clicks and thinned by zoom (North Carolina's counties)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tests.support.auth import auth_headers

from .conftest import REPO, VIEWPORT, MapPage, Platform

FILL_OPACITY = 0.55  # web/src/map.ts UNIT_FILL_OPACITY
CHARLOTTE = "city:Charlotte|NC"
MECKLENBURG = "37119"  # Charlotte's county
TILES_DRAWN = "() => { const t = window.territoryMap.tiles(); return !!t && t.fetched > 0 && t.loading === 0; }"

# The z-index of the pane that holds an element, and of named panes.
PANE_OF = """(selector) => {
    const el = document.querySelector(selector);
    const pane = el && el.closest('.leaflet-pane');
    return pane ? {pane: pane.className, z: Number(getComputedStyle(pane).zIndex)} : null;
}"""
PANE_Z = """(names) => names.map(n => {
    const pane = document.querySelector(`#map .leaflet-${n}-pane`);
    return pane ? Number(getComputedStyle(pane).zIndex) : null;
})"""


def min_zoom() -> dict[str, int]:
    """Each city label's first zoom, as web/src/basemap.ts cityLabels gives it."""
    cities = json.loads((REPO / "web" / "src" / "data" / "cities.json").read_text())["cities"]
    out = {}
    for i, c in enumerate(cities):
        p = c["population"]
        z = 0 if p >= 1_000_000 else 5 if p >= 400_000 else 6 if p >= 200_000 else 7 if i < 300 else 8
        out[f"city:{c['name']}|{c['state']}"] = z
    return out


def view(map_page: MapPage, lat: float, lon: float, zoom: float) -> None:
    map_page.page.evaluate(
        "([lat, lon, z]) => { window.territoryMap.map.setView([lat, lon], z, {animate: false}); }", [lat, lon, zoom]
    )
    map_page.page.wait_for_timeout(400)  # the labels are placed on the next frame after the view settles


def cities(map_page: MapPage) -> dict[str, dict[str, Any]]:
    return {label["id"]: label for label in map_page.hook("labels()") if label["kind"] == "city"}


def region_pixels(map_page: MapPage, png: Path, box: dict[str, float]) -> list[list[int]]:
    """RGB of each pixel of a page region in a screenshot, decoded by the browser."""
    return map_page.page.evaluate(
        """async ([data, x, y, w, h]) => {
            const img = new Image(); img.src = 'data:image/png;base64,' + data; await img.decode();
            const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
            const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
            const d = ctx.getImageData(x, y, w, h).data;
            const out = [];
            for (let i = 0; i < d.length; i += 4) out.push([d[i], d[i + 1], d[i + 2]]);
            return out;
        }""",
        [
            base64.b64encode(png.read_bytes()).decode(),
            int(box["left"]),
            int(box["top"]),
            int(box["right"] - box["left"]) + 1,
            int(box["bottom"] - box["top"]) + 1,
        ],
    )


def test_city_names_are_drawn_under_the_units_and_read_through_their_fill(
    map_page: MapPage, platform: Platform, tmp_path: Path
):
    draft = platform.draft("base map under units")
    map_page.open(draft["id"])
    page = map_page.page
    view(map_page, 35.4, -80.4, 7)
    page.wait_for_function("(id) => window.territoryMap.labels().some(l => l.id === id)", arg=CHARLOTTE)
    charlotte = cities(map_page)[CHARLOTTE]
    assert charlotte["text"] == "Charlotte"

    # Under the units: the city names' pane is below the GeoJSON units' (overlay) pane and the tiles' pane (390);
    # the territory names stay above them in the label pane.
    city = page.evaluate(PANE_OF, f'[data-label-id="{CHARLOTTE}"]')
    territory = page.evaluate(PANE_OF, ".map-label.territory")
    overlay, background, lines = page.evaluate(PANE_Z, ["overlay", "background", "basemap-lines"])
    assert city and territory, (city, territory)
    assert "leaflet-labels-pane" not in city["pane"], city
    assert background < lines <= city["z"] < 390 < overlay < territory["z"], (background, lines, city, territory)
    in_pane = page.evaluate("() => document.querySelectorAll('.leaflet-labels-pane .map-label.city').length")
    assert in_pane == 0, f"{in_pane} city names left above the units"

    # The units' fill is light enough to read the base map through: every unit drawn at the set opacity, and the
    # canvas under Charlotte's county holds its colour at that alpha.
    opacities = page.evaluate(
        """() => { const out = new Set(); window.territoryMap.map.eachLayer(l => {
                     if (l.feature && l.feature.properties && l.feature.properties.unit_id !== undefined)
                       out.add(l.options.fillOpacity); });
                   return [...out]; }"""
    )
    assert opacities == [FILL_OPACITY], opacities
    point = map_page.unit_point(MECKLENBURG)
    alpha = page.evaluate(
        """([x, y]) => { for (const c of document.querySelectorAll('#map .leaflet-overlay-pane canvas')) {
                           const r = c.getBoundingClientRect();
                           if (x < r.left || x >= r.right || y < r.top || y >= r.bottom) continue;
                           const px = c.getContext('2d').getImageData(
                               Math.floor((x - r.left) * c.width / r.width),
                               Math.floor((y - r.top) * c.height / r.height), 1, 1).data;
                           return px[3]; }
                         return null; }""",
        [point["x"], point["y"] + 12],  # beside the name, in the county's fill
    )
    assert alpha is not None and abs(alpha - round(255 * FILL_OPACITY)) <= 2, alpha

    # Visible: the name shows through the fill. With the label hidden, its box is the unit's fill only; with it,
    # the dark text makes a difference a reader sees (under the old 85% fill it could not exceed 0.15 x 255).
    shown = map_page.screenshot("base-map-under-units")
    label = f'[data-label-id="{CHARLOTTE}"]'
    page.evaluate("(s) => { document.querySelector(s).style.visibility = 'hidden'; }", label)
    hidden = tmp_path / "without-charlotte.png"
    page.screenshot(path=str(hidden))
    page.evaluate("(s) => { document.querySelector(s).style.visibility = ''; }", label)
    with_label = region_pixels(map_page, shown, charlotte)
    without = region_pixels(map_page, hidden, charlotte)
    contrast = max(abs(sum(a) - sum(b)) / 3 for a, b in zip(with_label, without, strict=True))
    print(f"Charlotte's name against the fill under it: {contrast:.0f} of 255")
    assert contrast >= 80, contrast
    visible = page.evaluate(
        """(id) => { const el = document.querySelector(`[data-label-id="${id}"]`); const s = getComputedStyle(el);
                     return s.visibility === 'visible' && s.display !== 'none' && Number(s.opacity) > 0.9; }""",
        CHARLOTTE,
    )
    assert visible

    # No clicks taken: a click on Charlotte's dot selects the county under it.
    for selector in (f'[data-label-id="{CHARLOTTE}"]', ".leaflet-basemap-labels-pane"):
        assert page.evaluate("(s) => getComputedStyle(document.querySelector(s)).pointerEvents", selector) == "none"
    dot = page.locator(f'[data-label-id="{CHARLOTTE}"] .dot').bounding_box()
    assert dot
    page.mouse.click(dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2)
    page.wait_for_function("() => window.territoryMap.selection().length === 1")
    assert map_page.hook("selection()") == [MECKLENBURG]

    # Thinned by zoom: far out only the biggest cities, closer in the smaller ones too.
    first = min_zoom()
    view(map_page, 35.5, -79.5, 5)
    far = cities(map_page)
    assert far and all(first[c] <= 5 for c in far), {c: first[c] for c in far}
    view(map_page, 35.85, -78.8, 8)
    close = cities(map_page)
    assert any(first[c] > 5 for c in close), {c: first[c] for c in close}
    map_page.screenshot("base-map-under-units-triangle")


def test_city_names_are_under_units_drawn_from_tiles(browser: Any, platform: Platform):
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(30_000)
    map_page = MapPage(page, platform)
    token = auth_headers(platform.tenant, "planner")["Authorization"].removeprefix("Bearer ")
    try:
        page.goto(f"{platform.url}/?alignment={platform.active_id}&tiles=on#token={token}")
        map_page.wait_ready()
        view(map_page, 35.4, -80.4, 7)
        page.wait_for_function(TILES_DRAWN)
        page.wait_for_function("(id) => window.territoryMap.labels().some(l => l.id === id)", arg=CHARLOTTE)
        city = page.evaluate(PANE_OF, f'[data-label-id="{CHARLOTTE}"]')
        (tiles,) = page.evaluate(PANE_Z, ["unit-tiles"])
        assert city and tiles is not None and city["z"] < tiles, (city, tiles)
        assert page.locator("#map .leaflet-unit-tiles-pane canvas").count() > 0
        map_page.screenshot("base-map-under-unit-tiles")
    finally:
        page.context.close()
    assert not map_page.errors, map_page.errors
