"""The web map as a planner uses it: see the alignment, select and move units, undo, meet a conflict, compare
and publish, in Chromium against the embedded platform."""

from __future__ import annotations

import math

from tests.support.auth import auth_headers

from .conftest import MapPage, Platform

WAKE = "37183"  # Raleigh, in TRIANGLE
DURHAM = "37063"


def test_the_map_draws_every_unit_and_the_outlines_of_both_hierarchy_levels(map_page: MapPage, platform: Platform):
    map_page.open(platform.active_id)
    units = map_page.hook("queryRenderedFeatures(...args)", "units")
    assert len(units) == 100 and WAKE in units
    outlines = map_page.hook("queryRenderedFeatures(...args)", "territories")
    assert {o["level"] for o in outlines} == {0, 1}
    assert len([o for o in outlines if o["level"] == 1]) == 4
    shot = map_page.screenshot("main-view")
    assert map_page.distinct_colours(shot) > 40, "the map looks blank"
    counts = map_page.panel_counts()
    for code, n in _count(platform.units(platform.active_id)).items():
        assert counts[code] == f"{n} units"
    assert counts["E"] and counts["W"]


def _count(units: dict[str, str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for code in units.values():
        if code:
            out[code] = out.get(code, 0) + 1
    return out


def test_neighbouring_territories_never_share_a_colour(map_page: MapPage, platform: Platform):
    map_page.open(platform.active_id)
    colours = map_page.hook("territoryColours()")
    adjacent = map_page.hook("adjacentTerritories()")
    assert len(colours) == 4
    for territory, neighbours in adjacent:
        for n in neighbours:
            assert colours[territory] != colours[n], (territory, n)


def test_every_control_has_a_label_and_the_keyboard_reaches_them(map_page: MapPage, platform: Platform):
    map_page.open(platform.active_id)
    unlabeled = map_page.page.evaluate(
        """() => [...document.querySelectorAll('button, select, input')].filter(el => {
            const label = el.getAttribute('aria-label') || el.textContent.trim() || (el.labels && el.labels.length);
            return !label;
        }).map(el => el.outerHTML)"""
    )
    assert unlabeled == []
    map_page.page.keyboard.press("Tab")
    focused = map_page.page.evaluate("() => document.activeElement.id")
    assert focused == "tenant"


def test_a_box_selection_moves_units_the_panel_follows_and_undo_restores_them(map_page: MapPage, platform: Platform):
    draft = platform.draft("box move")
    before = platform.units(draft["id"])
    map_page.open(draft["id"])
    counts_before = map_page.panel_counts()
    bars_before = map_page.wait_balance_matches(platform, draft["id"])
    map_page.page.get_by_role("button", name="Box").click()
    wake = map_page.unit_point(WAKE)
    map_page.drag_box({"x": wake["x"] - 4, "y": wake["y"] - 4}, {"x": wake["x"] + 4, "y": wake["y"] + 4})
    assert map_page.hook("selection()") == [WAKE]
    map_page.page.get_by_label("Move to").select_option(label="COAST · Coast")
    map_page.page.get_by_role("button", name="Move selected").click()
    map_page.wait_territory(WAKE, "COAST")
    assert platform.units(draft["id"])[WAKE] == "COAST"
    map_page.page.wait_for_function(
        "(before) => document.querySelector('#territory-list li[data-code=COAST] .unit-count').textContent !== before",
        arg=counts_before["COAST"],
    )
    counts = map_page.panel_counts()
    assert int(counts["COAST"].split()[0]) == int(counts_before["COAST"].split()[0]) + 1
    assert int(counts["TRIANGLE"].split()[0]) == int(counts_before["TRIANGLE"].split()[0]) - 1
    # The balance bars show what metrics-service answers for the new version, not a figure of the page's own.
    expected = map_page.wait_balance_matches(platform, draft["id"])
    assert expected["COAST"] != bars_before["COAST"]
    map_page.screenshot("after-move")

    map_page.page.get_by_role("button", name="Undo").click()
    map_page.wait_territory(WAKE, "TRIANGLE")
    assert platform.units(draft["id"]) == before
    map_page.page.get_by_role("button", name="Redo").click()
    map_page.wait_territory(WAKE, "COAST")
    assert platform.units(draft["id"])[WAKE] == "COAST"


def test_a_quick_box_drag_reaches_where_the_button_is_released(map_page: MapPage, platform: Platform):
    # The map's canvas passes on at most one mousemove per 32 ms: the second move below arrives within that
    # window and is dropped, so only the release point can carry the box past Wake's centre.
    draft = platform.draft("quick box")
    map_page.open(draft["id"])
    map_page.page.get_by_role("button", name="Box").click()
    wake = map_page.unit_point(WAKE)
    mouse = map_page.page.mouse
    mouse.move(wake["x"] - 4, wake["y"] - 4)
    map_page.page.wait_for_timeout(100)
    mouse.down()
    mouse.move(wake["x"] - 3, wake["y"] - 3)
    mouse.move(wake["x"] + 4, wake["y"] + 4)
    mouse.up()
    assert map_page.hook("selection()") == [WAKE]


def test_click_and_shift_click_build_a_selection(map_page: MapPage, platform: Platform):
    draft = platform.draft("clicks")
    map_page.open(draft["id"])
    wake, durham = map_page.unit_point(WAKE), map_page.unit_point(DURHAM)
    map_page.page.mouse.click(wake["x"], wake["y"])
    assert map_page.hook("selection()") == [WAKE]
    map_page.page.keyboard.down("Shift")
    map_page.page.mouse.click(durham["x"], durham["y"])
    map_page.page.keyboard.up("Shift")
    assert map_page.hook("selection()") == sorted([WAKE, DURHAM])
    assert "2 units selected" in map_page.page.locator("#selection-info").text_content()


def test_a_stale_version_shows_a_conflict_and_keeps_the_other_edit(map_page: MapPage, platform: Platform):
    draft = platform.draft("conflict")
    map_page.open(draft["id"])
    platform.move(draft["id"], [DURHAM], "COAST")  # someone else, in another tab
    wake = map_page.unit_point(WAKE)
    map_page.page.mouse.click(wake["x"], wake["y"])
    map_page.page.get_by_label("Move to").select_option(label="WEST · West")
    map_page.page.get_by_role("button", name="Move selected").click()
    conflict = map_page.page.get_by_role("alert")
    conflict.wait_for()
    assert "Someone else changed" in conflict.text_content()
    map_page.wait_territory(DURHAM, "COAST")  # reloaded with their change
    units = platform.units(draft["id"])
    assert units[DURHAM] == "COAST" and units[WAKE] == "TRIANGLE"
    assert map_page.hook("version") == platform.alignment(draft["id"])["version"]
    map_page.screenshot("conflict")


def test_locked_units_cannot_be_moved(map_page: MapPage, platform: Platform):
    draft = platform.draft("locks")
    map_page.open(draft["id"])
    wake = map_page.unit_point(WAKE)
    map_page.page.mouse.click(wake["x"], wake["y"])
    map_page.page.get_by_role("button", name="Lock selected", exact=True).click()
    map_page.page.wait_for_function("() => window.territoryMap.locked().length === 1")
    assert map_page.hook("locked()") == [WAKE]
    map_page.page.get_by_label("Move to").select_option(label="WEST · West")
    map_page.page.get_by_role("button", name="Move selected").click()
    map_page.page.wait_for_function("() => document.querySelector('#messages').textContent.includes('locked unit')")
    assert WAKE in map_page.page.locator("#messages").text_content()
    assert platform.units(draft["id"])[WAKE] == "TRIANGLE"


def test_compare_highlights_the_units_that_changed_territory(map_page: MapPage, platform: Platform):
    draft = platform.draft("compare")
    platform.move(draft["id"], [WAKE, DURHAM], "COAST")
    map_page.open(draft["id"])
    map_page.page.get_by_label("Compare with").select_option(value=platform.active_id)
    map_page.page.wait_for_function("() => window.territoryMap.changedUnits().length > 0")
    assert map_page.hook("changedUnits()") == sorted([WAKE, DURHAM])
    assert "2 units in another territory" in map_page.page.locator("#compare-title").text_content()
    map_page.screenshot("compare")


def test_a_choropleth_of_a_unit_attribute_has_a_legend(map_page: MapPage, platform: Platform):
    map_page.open(platform.active_id)
    map_page.page.get_by_label("Colour units by").select_option(value="attr:BIR74")
    rows = map_page.page.locator("#legend .legend-row")
    assert rows.count() == 5
    map_page.screenshot("choropleth")


def test_publishing_a_draft_makes_it_the_active_alignment(map_page: MapPage, platform: Platform):
    draft = platform.draft("to publish")
    platform.move(draft["id"], [WAKE], "COAST")
    map_page.open(draft["id"])
    map_page.page.get_by_role("button", name="Preview changes").click()
    map_page.page.wait_for_function("() => document.querySelector('#publish-preview').textContent.includes('change')")
    assert "1 unit change territory" in map_page.page.locator("#publish-preview").text_content()
    map_page.page.get_by_role("button", name="Publish this draft").click()
    map_page.page.locator("#publish-dialog").get_by_role("button", name="Publish", exact=True).click()
    map_page.page.wait_for_function("() => document.querySelector('#alignment-state').textContent.startsWith('active')")
    assert platform.active_id == draft["id"]
    assert map_page.page.get_by_role("button", name="Move selected").is_disabled()


def test_a_lasso_selects_the_units_inside_it(map_page: MapPage, platform: Platform):
    draft = platform.draft("lasso")
    map_page.open(draft["id"])
    map_page.page.get_by_role("button", name="Lasso").click()
    wake = map_page.unit_point(WAKE)
    mouse = map_page.page.mouse
    ring = [(8 * math.cos(a * math.pi / 6), 8 * math.sin(a * math.pi / 6)) for a in range(13)]
    mouse.move(wake["x"] + ring[0][0], wake["y"] + ring[0][1])
    mouse.down()
    for dx, dy in ring[1:]:
        mouse.move(wake["x"] + dx, wake["y"] + dy, steps=2)
    mouse.up()
    assert map_page.hook("selection()") == [WAKE], map_page.page.locator("#selection-info").text_content()


def test_the_optimize_panel_shows_only_when_assignment_service_offers_the_optimizer(
    map_page: MapPage, platform: Platform
):
    map_page.open(platform.active_id)
    paths = platform.ok(platform.http.get("/assignment/openapi.json"))["paths"]
    offered = any(p in paths and "post" in paths[p] for p in ("/v1/design-jobs", "/v1/optimizer-jobs", "/v1/optimize"))
    assert map_page.page.locator("#optimize-section").is_visible() == offered


def test_clicking_a_territory_in_the_panel_zooms_to_it_and_highlights_it(map_page: MapPage, platform: Platform):
    map_page.open(platform.active_id)
    zoom_before = map_page.page.evaluate("() => window.territoryMap.map.getZoom()")
    map_page.page.get_by_role("button", name="Zoom to territory COAST Coast").click()
    assert map_page.page.locator("#territory-list li.selected").get_attribute("data-code") == "COAST"
    map_page.page.wait_for_function("(z) => window.territoryMap.map.getZoom() > z", arg=zoom_before)


def test_the_token_leaves_the_address_bar_and_without_one_the_map_asks_for_it(map_page: MapPage, platform: Platform):
    map_page.open(platform.active_id)
    assert "token" not in map_page.page.url
    assert map_page.page.locator("#tenant").input_value() == platform.tenant
    # A new tab has no token: the map asks for one and, once pasted, shows the tenant's alignments.
    page = map_page.page.context.new_page()
    page.goto(f"{platform.url}/")
    page.wait_for_function("() => window.territoryMap && window.territoryMap.ready")
    form = page.get_by_role("form", name="Sign in")
    assert form.is_visible()
    token = auth_headers(platform.tenant, "manager")["Authorization"].removeprefix("Bearer ")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_function(
        "() => window.territoryMap && window.territoryMap.ready && !document.getElementById('signin').checkVisibility()"
    )
    page.wait_for_function("() => document.querySelectorAll('#alignment option').length > 0")
    assert page.locator("#tenant").input_value() == platform.tenant
