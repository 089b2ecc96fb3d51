"""Side-by-side comparison on a layer drawn from vector tiles (``?tiles=on`` on the North Carolina counties): the
compare map draws the compared alignment from the same tiles, follows the main map, and leaves nothing behind."""

from __future__ import annotations

from typing import Any

from .conftest import TILES_DRAWN, VIEWPORT, MapPage, Platform

WAKE = "37183"  # Raleigh: TRIANGLE in the starting alignment
DURHAM = "37063"  # TRIANGLE too
MAIN_TILES = "#map .leaflet-unit-tiles-pane canvas.leaflet-tile"
COMPARE_TILES = "#map-compare .leaflet-unit-tiles-pane canvas.leaflet-tile"
# Every tile of the compare map's current zoom has arrived (Leaflet marks each one loaded when it is drawn).
COMPARE_DRAWN = f"""() => {{
    const tiles = [...document.querySelectorAll('{COMPARE_TILES}')];
    return tiles.length > 0 && tiles.every(t => t.classList.contains('leaflet-tile-loaded'));
}}"""

# The RGBA of a canvas pixel under a page point, in the topmost zoom level of the tiles under the selector.
CANVAS_PIXEL = """([selector, points]) => points.map(([x, y]) => {
    const hits = [...document.querySelectorAll(selector)].filter(c => {
        const r = c.getBoundingClientRect();
        return x >= r.left && x < r.right && y >= r.top && y < r.bottom;
    });
    if (!hits.length) return null;
    const level = (c) => Number(c.parentElement.style.zIndex || 0);
    const c = hits.reduce((a, b) => (level(b) > level(a) ? b : a));
    const r = c.getBoundingClientRect();
    const px = c.getContext('2d').getImageData(
        Math.floor((x - r.left) * c.width / r.width), Math.floor((y - r.top) * c.height / r.height), 1, 1).data;
    return [...px];
})"""

# Listeners on the main map, by event: opening and closing the comparison must leave them as they were.
LISTENERS = """() => Object.fromEntries(Object.entries(window.territoryMap.map._events || {})
    .map(([type, fns]) => [type, (fns || []).length]).filter(([, n]) => n > 0))"""


def open_tiled(browser: Any, platform: Platform, alignment_id: str) -> MapPage:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(30_000)
    return MapPage(page, platform).open_tiled(alignment_id)


def rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def filled_with(pixel: list[int] | None, colour: str) -> bool:
    """The tile pixel is the territory's colour laid at the units' fill opacity (0.55 of 255)."""
    return (
        pixel is not None
        and all(abs(p - c) <= 3 for p, c in zip(pixel[:3], rgb(colour), strict=True))
        and abs(pixel[3] - 140) <= 3
    )


def unit_points(map_page: MapPage, units: list[str]) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """Each unit's centre on the main map and where the compare map, at the same centre and zoom, draws it; only
    units well inside both maps."""
    points = map_page.page.evaluate(
        """(units) => {
            const m = window.territoryMap;
            const a = document.querySelector('#map').getBoundingClientRect();
            const b = document.querySelector('#map-compare').getBoundingClientRect();
            const inside = (p, r) => p.x > r.left + 20 && p.x < r.right - 20 && p.y > r.top + 20 && p.y < r.bottom - 20;
            const out = {};
            for (const u of units) {
                const p = m.unitScreenPoint(u);
                if (!p) continue;
                const q = {x: b.left + b.width / 2 + (p.x - a.left - a.width / 2),
                           y: b.top + b.height / 2 + (p.y - a.top - a.height / 2)};
                if (inside(p, a) && inside(q, b)) out[u] = [p, q];
            }
            return out;
        }""",
        units,
    )
    return {u: (p, q) for u, (p, q) in points.items()}


def pixels(map_page: MapPage, selector: str, points: list[dict[str, float]]) -> list[list[int] | None]:
    return map_page.page.evaluate(CANVAS_PIXEL, [selector, [[p["x"], p["y"]] for p in points]])


def compared_colours_match(map_page: MapPage, active: dict[str, str | None], colours: dict[str, str]) -> list[str]:
    """The units whose pixel on the compare map is not their territory's colour in the compared alignment."""
    points = unit_points(map_page, sorted(active))
    assert len(points) >= 20, f"only {len(points)} units on both maps"
    drawn = pixels(map_page, COMPARE_TILES, [q for _, q in points.values()])
    return [u for u, px in zip(points, drawn, strict=True) if not filled_with(px, colours[str(active[u])])]


def test_the_compare_map_of_a_tiled_layer_draws_the_compared_alignment_from_the_same_tiles(browser, platform):
    active_id = platform.active_id
    active = platform.units(active_id)
    draft = platform.draft("compare tiled")
    map_page = open_tiled(browser, platform, draft["id"])
    page = map_page.page
    try:
        assert page.locator(MAIN_TILES).count() > 0
        # Wake and Durham move from TRIANGLE to COAST on the map, as a planner does it.
        for i, unit in enumerate((WAKE, DURHAM)):
            point = map_page.unit_point(unit)
            if i:
                page.keyboard.down("Shift")
            page.mouse.click(point["x"], point["y"])
            page.keyboard.up("Shift")
            page.wait_for_function("(u) => window.territoryMap.selection().includes(u)", arg=unit)
        assert map_page.hook("selection()") == sorted([WAKE, DURHAM])
        page.get_by_label("Move to").select_option(label="COAST · Coast")
        page.get_by_role("button", name="Move selected").click()
        map_page.wait_territory(WAKE, "COAST")
        map_page.wait_territory(DURHAM, "COAST")
        page.wait_for_function(TILES_DRAWN)
        assert active[WAKE] == active[DURHAM] == "TRIANGLE"

        full = page.evaluate("() => document.querySelector('.maps').getBoundingClientRect().width")
        listeners = page.evaluate(LISTENERS)
        page.get_by_label("Compare with").select_option(value=active_id)
        page.wait_for_function("() => window.territoryMap.changedUnits().length > 0")
        map_page.wait_ready()
        assert map_page.hook("changedUnits()") == sorted([WAKE, DURHAM])
        assert page.evaluate("() => document.querySelector('#map').getBoundingClientRect().width") < full * 0.6
        page.wait_for_function(COMPARE_DRAWN)
        page.wait_for_function(TILES_DRAWN)

        # The compare map drew tiles, and they are not blank.
        painted = page.evaluate(
            f"""() => [...document.querySelectorAll('{COMPARE_TILES}')].filter(c => {{
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
                return false;
            }}).length"""
        )
        assert painted >= 2, painted

        # The moved units: in COAST's colour on the draft's map, in TRIANGLE's on the compared alignment's.
        colours = map_page.hook("territoryColours()")
        moved = unit_points(map_page, [WAKE, DURHAM])
        assert set(moved) == {WAKE, DURHAM}, moved
        on_main = pixels(map_page, MAIN_TILES, [p for p, _ in moved.values()])
        on_compare = pixels(map_page, COMPARE_TILES, [q for _, q in moved.values()])
        for unit, main_px, compare_px in zip(moved, on_main, on_compare, strict=True):
            assert filled_with(main_px, colours["COAST"]), (unit, main_px, colours["COAST"])
            assert filled_with(compare_px, colours["TRIANGLE"]), (unit, compare_px, colours["TRIANGLE"])
        # And every other unit on both maps in its compared territory's colour.
        wrong = compared_colours_match(map_page, active, colours)
        assert len(wrong) <= 3, wrong  # a centre may fall outside its own county (the Outer Banks)
        map_page.screenshot("compare-tiled")

        # The maps stay together: the compare map follows a pan and a zoom of the main map.
        page.evaluate(
            """() => { const m = window.territoryMap.map;
                       m.setView(m.containerPointToLatLng([m.getSize().x * 0.4, m.getSize().y * 0.45]),
                                 Math.round(m.getZoom()) + 1, { animate: false }); }"""
        )
        page.wait_for_timeout(300)
        page.wait_for_function(TILES_DRAWN)
        page.wait_for_function(COMPARE_DRAWN)
        wrong = compared_colours_match(map_page, active, colours)
        assert len(wrong) <= 3, wrong
        map_page.screenshot("compare-tiled-zoomed")

        # Closing: the compare map is gone with its tiles, the main map has its full width and its listeners back.
        map_page.close_compare()
        assert page.locator("#compare-pane").is_hidden()
        assert page.locator(COMPARE_TILES).count() == 0
        assert page.evaluate(LISTENERS) == listeners
        page.evaluate("() => { window.territoryMap.map.panBy([120, 40], { animate: false }); }")
        page.wait_for_function(TILES_DRAWN)
        main_px = pixels(map_page, MAIN_TILES, [map_page.unit_point(WAKE)])[0]
        assert filled_with(main_px, colours["COAST"]), main_px
        map_page.screenshot("compare-tiled-closed")
    finally:
        page.context.close()
    assert not map_page.errors, map_page.errors
